/** Liveness for Docker and Kubernetes: answers without a session and without asking the gateway. */
export const dynamic = 'force-dynamic';

export function GET() {
  return Response.json({ status: 'ok' });
}
