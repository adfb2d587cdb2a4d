import { TopologyEdge } from '@/components/topology-edge';
import { ScrollRegion } from '@/components/ui';
import { formatRate } from '@/lib/format';

export interface TopologyService {
  name: string;
  state: 'up' | 'degraded' | 'down';
  requestsPerSecond: number | null;
}

export interface TopologyQueue {
  name: string;
  /** The service whose worker consumes it. */
  service: string;
  waiting: number;
  jobsPerSecond: number | null;
}

const STATE_COLOURS = { up: '#1d6b34', degraded: '#8a5a00', down: '#b3261e' } as const;

/**
 * Gateway → services → queues, with the request rate on each gateway edge and each queue's depth
 * and job rate on its edge. Drawn as SVG that scrolls sideways on a narrow screen.
 */
export function Topology({ services, queues }: { services: TopologyService[]; queues: TopologyQueue[] }) {
  const rowHeight = 56;
  const rows = Math.max(services.length, queues.length, 1);
  const height = rows * rowHeight + 20;
  const serviceY = (index: number) => 10 + index * ((height - 20) / Math.max(services.length, 1)) + 18;
  const queueY = (index: number) => 10 + index * ((height - 20) / Math.max(queues.length, 1)) + 18;
  const gatewayY = height / 2;
  const totalRate = services.reduce((sum, service) => sum + (service.requestsPerSecond ?? 0), 0);
  return (
    <ScrollRegion label="Topology" className="topology" style={{ overflowX: 'auto' }}>
      <svg
        viewBox={`0 0 920 ${height}`}
        style={{ minWidth: 640 }}
        role="img"
        aria-label={`Topology: the gateway (${formatRate(totalRate)} requests per second) calls ${services.length} services, whose workers consume ${queues.length} queues`}
      >
        <title>Gateway, services and queues</title>
        {services.map((service, index) => (
          <TopologyEdge
            key={`edge-${service.name}`}
            from={{ x: 150, y: gatewayY }}
            to={{ x: 330, y: serviceY(index) }}
            labelX={250}
            label={`${formatRate(service.requestsPerSecond)}/s`}
          />
        ))}
        {queues.map((queue, index) => {
          const owner = services.findIndex((service) => service.name === queue.service);
          if (owner < 0) return null;
          return (
            <TopologyEdge
              key={`edge-${queue.name}`}
              from={{ x: 490, y: serviceY(owner) }}
              to={{ x: 660, y: queueY(index) }}
              labelX={575}
              label={queue.jobsPerSecond === null ? '' : `${formatRate(queue.jobsPerSecond)} jobs/s`}
            />
          );
        })}
        <g>
          <rect x={10} y={gatewayY - 22} width={140} height={44} rx={6} fill="#17324d" />
          <text x={80} y={gatewayY + 4} textAnchor="middle" style={{ fill: '#ffffff', fontWeight: 600 }}>
            gateway
          </text>
        </g>
        {services.map((service, index) => (
          <g key={service.name}>
            <rect
              x={330}
              y={serviceY(index) - 18}
              width={160}
              height={36}
              rx={6}
              fill="#ffffff"
              stroke={STATE_COLOURS[service.state]}
              strokeWidth="2"
            />
            <circle cx={346} cy={serviceY(index)} r={5} fill={STATE_COLOURS[service.state]} />
            <text x={358} y={serviceY(index) + 4}>
              {service.name} · {service.state}
            </text>
          </g>
        ))}
        {queues.map((queue, index) => (
          <g key={queue.name}>
            <rect
              x={660}
              y={queueY(index) - 18}
              width={250}
              height={36}
              rx={6}
              fill="#eef1f5"
              stroke="#8a929c"
            />
            <text x={672} y={queueY(index) + 4}>
              {queue.name} · {queue.waiting} waiting
            </text>
          </g>
        ))}
      </svg>
    </ScrollRegion>
  );
}
