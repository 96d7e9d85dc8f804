import { createServer, type Socket } from 'node:net';
import { PortForward, type KubeConfig } from '@kubernetes/client-node';

/** A port of a pod, reachable on this machine's loopback through the API server (as `kubectl port-forward`). */
export interface Forwarded {
  /** http://127.0.0.1:PORT */
  url: string;
  close(): void;
}

/**
 * Forwards a local loopback port to `port` of a pod, one stream per connection, through the API
 * server (pods/portforward). The connection arrives on the pod's own localhost, so no sidecar
 * intercepts it.
 */
export async function forwardPort(kc: KubeConfig, namespace: string, pod: string, port: number): Promise<Forwarded> {
  const forward = new PortForward(kc);
  const open = new Set<Socket>();
  const server = createServer((socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    // The local client may hang up first (a gRPC program that has its answer and exits): what the
    // pod still sends then must not surface as an error of the run.
    socket.on('error', () => socket.destroy());
    forward.portForward(namespace, pod, [port], socket, null, socket).then((ws) => {
      // The stream through the API server goes when the local connection does.
      if (typeof ws === 'function') return;
      if (socket.destroyed) ws.close();
      else socket.once('close', () => ws.close());
    }, () => socket.destroy());
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const local = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${local}`,
    close: () => {
      server.close();
      for (const socket of open) socket.destroy();
    },
  };
}
