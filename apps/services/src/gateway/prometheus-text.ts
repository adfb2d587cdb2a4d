/** One sample of a metric as the Prometheus text format writes it: `name{label="value"} 1.5`. */
export interface PrometheusSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The text is not in the Prometheus exposition format; the message names the line. */
export class PrometheusTextError extends Error {
  override name = 'PrometheusTextError';
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const ESCAPES: Record<string, string> = { '\\': '\\', '"': '"', n: '\n' };

/**
 * Reads every sample of a `/metrics` reply in the text exposition format (version 0.0.4); `# HELP`
 * and `# TYPE` lines are skipped, since sample names carry what aggregation here needs.
 * https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
 */
export function parsePrometheusText(text: string): PrometheusSample[] {
  const samples: PrometheusSample[] = [];
  for (const [index, rawLine] of text.split('\n').entries()) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    try {
      samples.push(parseSample(line));
    } catch (error) {
      throw new PrometheusTextError(`line ${index + 1}: ${(error as Error).message}: ${line}`);
    }
  }
  return samples;
}

function parseSample(line: string): PrometheusSample {
  const name = METRIC_NAME.exec(line)?.[0];
  if (!name) throw new Error('no metric name');
  let position = name.length;
  const labels: Record<string, string> = {};
  if (line[position] === '{') {
    position++;
    for (;;) {
      position = skipSpaces(line, position);
      if (line[position] === '}') break;
      const labelName = LABEL_NAME.exec(line.slice(position))?.[0];
      if (!labelName) throw new Error('bad label name');
      position = skipSpaces(line, position + labelName.length);
      if (line[position] !== '=' || line[skipSpaces(line, position + 1)] !== '"')
        throw new Error(`label ${labelName} has no quoted value`);
      position = skipSpaces(line, position + 1) + 1;
      let value = '';
      while (line[position] !== '"') {
        if (position >= line.length) throw new Error(`label ${labelName} is not closed`);
        if (line[position] === '\\') {
          const escaped = ESCAPES[line[position + 1] ?? ''];
          if (escaped === undefined) throw new Error(`label ${labelName} has a bad escape`);
          value += escaped;
          position += 2;
        } else {
          value += line[position];
          position++;
        }
      }
      labels[labelName] = value;
      position = skipSpaces(line, position + 1);
      if (line[position] === ',') position++;
      else if (line[position] !== '}') throw new Error('expected "," or "}" after a label');
    }
    position++;
  }
  // The value, then an optional timestamp in milliseconds.
  const [valueText, timestamp, ...rest] = line.slice(position).trim().split(/\s+/);
  if (valueText === undefined || valueText === '' || rest.length > 0) throw new Error('expected a value');
  if (timestamp !== undefined && !/^-?\d+$/.test(timestamp)) throw new Error('bad timestamp');
  return { name, labels, value: parseValue(valueText) };
}

/** Values as Prometheus reads them (Go's `ParseFloat`): `NaN` and `Inf` in any case (prom-client writes `Nan`). */
function parseValue(text: string): number {
  switch (text.toLowerCase()) {
    case 'nan':
      return Number.NaN;
    case 'inf':
    case '+inf':
    case 'infinity':
    case '+infinity':
      return Number.POSITIVE_INFINITY;
    case '-inf':
    case '-infinity':
      return Number.NEGATIVE_INFINITY;
  }
  const value = Number(text);
  if (Number.isNaN(value)) throw new Error(`bad value "${text}"`);
  return value;
}

function skipSpaces(line: string, position: number): number {
  let next = position;
  while (line[next] === ' ' || line[next] === '\t') next++;
  return next;
}
