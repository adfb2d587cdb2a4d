interface Point {
  x: number;
  y: number;
}

/** A line of the topology between two boxes, with its rate written above it, centred on `labelX`. */
export function TopologyEdge({
  from,
  to,
  labelX,
  label,
}: {
  from: Point;
  to: Point;
  labelX: number;
  label: string;
}) {
  return (
    <g>
      <line x1={from.x} y1={from.y} x2={to.x} y2={to.y} stroke="#8a929c" strokeWidth="1.5" />
      <text x={labelX} y={(from.y + to.y) / 2 - 4} textAnchor="middle">
        {label}
      </text>
    </g>
  );
}
