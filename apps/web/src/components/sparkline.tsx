/** A small line chart of recent values, with its latest value as text for every reader. */
export function Sparkline({
  label,
  values,
  display,
}: {
  label: string;
  values: (number | null)[];
  /** The latest value, formatted. */
  display: string;
}) {
  const width = 120;
  const height = 36;
  const known = values.filter((value): value is number => value !== null);
  const max = Math.max(...known, 0) || 1;
  const step = values.length > 1 ? width / (values.length - 1) : width;
  const points = values
    .map((value, index) =>
      value === null
        ? null
        : `${(index * step).toFixed(1)},${(height - 2 - (value / max) * (height - 4)).toFixed(1)}`,
    )
    .filter(Boolean)
    .join(' ');
  return (
    <figure className="chart" style={{ margin: 0 }}>
      <figcaption>
        <span>{label}</span> <strong>{display}</strong>
      </figcaption>
      <svg
        viewBox={`0 0 ${width} ${height}`}
        preserveAspectRatio="none"
        role="img"
        aria-label={`${label}: ${display}`}
      >
        <line x1="0" y1={height - 1} x2={width} y2={height - 1} stroke="#d6dae0" strokeWidth="1" />
        {known.length > 0 ? (
          <polyline
            points={points}
            fill="none"
            stroke="#1f5fbf"
            strokeWidth="1.5"
            vectorEffect="non-scaling-stroke"
          />
        ) : null}
      </svg>
    </figure>
  );
}
