import type { Socket, TCPSocketListener } from "bun";

/**
 * A TCP relay in front of a database, that a test can cut (every open connection closed, new ones
 * refused: the database is unreachable) and restore.
 */
export type TcpProxy = {
  port: number;
  cut(): void;
  restore(): void;
  stop(): void;
};

type Pair = { client: Socket<Pair>; upstream: Socket<Pair> | null; pending: Uint8Array[] };

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  let open = true;
  const pairs = new Set<Pair>();
  const listener: TCPSocketListener<Pair> = Bun.listen<Pair>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(client) {
        if (!open) {
          client.end();
          return;
        }
        const pair: Pair = { client, upstream: null, pending: [] };
        client.data = pair;
        pairs.add(pair);
        void Bun.connect<Pair>({
          hostname: targetHost,
          port: targetPort,
          data: pair,
          socket: {
            open(upstream) {
              pair.upstream = upstream;
              for (const chunk of pair.pending.splice(0)) upstream.write(chunk);
            },
            data(_upstream, chunk) {
              pair.client.write(chunk);
            },
            close() {
              pairs.delete(pair);
              pair.client.end();
            },
            error() {
              pair.client.end();
            },
          },
        }).catch(() => client.end());
      },
      data(client, chunk) {
        const pair = client.data;
        if (pair.upstream) pair.upstream.write(chunk);
        else pair.pending.push(new Uint8Array(chunk));
      },
      close(client) {
        const pair = client.data;
        if (!pair) return;
        pairs.delete(pair);
        pair.upstream?.end();
      },
    },
  });
  const cut = (): void => {
    open = false;
    for (const pair of [...pairs]) {
      pairs.delete(pair);
      pair.client.terminate();
      pair.upstream?.terminate();
    }
  };
  return {
    port: listener.port,
    cut,
    restore() {
      open = true;
    },
    stop() {
      cut();
      listener.stop(true);
    },
  };
}
