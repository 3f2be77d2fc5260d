package io.ragline.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A loopback TCP proxy in front of a real server. {@link #cut()} makes the server look stopped to
 * everything behind the proxy (open connections drop, new ones are refused) without stopping the
 * server that other tests share; {@link #blackhole()} makes it look unreachable the silent way (a
 * dead route or a firewall that drops packets: nothing is refused, nothing answers);
 * {@link #restore()} brings it back on the same port. {@link #delay} makes the server look farther
 * away (a database on another host): every byte arrives a fixed time later, in each direction.
 */
public final class TcpProxy implements AutoCloseable {
    private final InetSocketAddress target;
    private final int port;
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
    /** Connections accepted while black-holed: never connected upstream, never answered. */
    private final Set<Socket> held = ConcurrentHashMap.newKeySet();

    private volatile ServerSocket server;
    private volatile boolean blackholed;
    /** How much later each byte arrives, in each direction ({@link #delay}). */
    private volatile long delayNanos;
    /** Reads from the clients' side carried to the server ({@link #clientWrites}). */
    private final java.util.concurrent.atomic.AtomicLong clientWrites = new java.util.concurrent.atomic.AtomicLong();

    public TcpProxy(String targetHost, int targetPort) {
        this.target = new InetSocketAddress(targetHost, targetPort);
        this.server = bind(0);
        this.port = server.getLocalPort();
        accept(server);
    }

    /** A proxy in front of the test database; {@link #databaseUrl(String)} points through it. */
    public static TcpProxy forDatabase() {
        LibpqUrl url = LibpqUrl.parse(TestServices.get().databaseUrl());
        return new TcpProxy(url.host(), url.port());
    }

    public int port() {
        return port;
    }

    /**
     * {@code libpqUrl} (a URL of the test database, e.g. {@link PostgresSchema#databaseUrl()}: the
     * login the code under test uses, its worker login included) with its host and port replaced by
     * this proxy's.
     */
    public String databaseUrl(String libpqUrl) {
        String through = libpqUrl.replaceFirst("@[^/@]+/", "@127.0.0.1:" + port + "/");
        if (through.equals(libpqUrl)) {
            throw new IllegalArgumentException("not a postgresql://user@host:port/db URL of the test database");
        }
        return through;
    }

    /**
     * From now on each byte read from one side is written to the other {@code oneWay} later (a
     * round trip costs twice that), in order, as on a longer network path; zero carries bytes at
     * once again. For benchmarks of what a remote database costs.
     */
    public TcpProxy delay(java.time.Duration oneWay) {
        delayNanos = oneWay.toNanos();
        return this;
    }

    /**
     * How many times a client's bytes were carried to the server so far: about the round trips
     * the clients made (a client sends a request at once, then waits for its answer), more where a
     * request spans several reads (large COPY data).
     */
    public long clientWrites() {
        return clientWrites.get();
    }

    /** Drops every connection and refuses new ones, as a stopped server would. */
    public synchronized void cut() {
        try {
            server.close();
        } catch (IOException ignored) {
            // closing is all we want
        }
        closeAll();
    }

    /**
     * Stops carrying data without closing anything: bytes on open connections are swallowed, and
     * new connections are accepted (the TCP handshake succeeds) but never reach the server. Reads
     * behind the proxy block until their own timeouts, as on a network that went silent.
     */
    public synchronized void blackhole() {
        blackholed = true;
    }

    /**
     * Carries data again on the same port: after {@link #cut()} it listens again; after
     * {@link #blackhole()} the connections that went silent are reset (their streams lost bytes)
     * and new ones reach the server. Nothing to do if neither happened.
     */
    public synchronized void restore() {
        if (blackholed) {
            closeAll();
            blackholed = false;
        }
        if (!server.isClosed()) {
            return;
        }
        server = bind(port);
        accept(server);
    }

    private void closeAll() {
        sockets.forEach(TcpProxy::closeQuietly);
        sockets.clear();
        held.forEach(TcpProxy::closeQuietly);
        held.clear();
    }

    @Override
    public void close() {
        cut();
    }

    private static ServerSocket bind(int port) {
        try {
            ServerSocket s = new ServerSocket();
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 128);
            return s;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on 127.0.0.1:" + port, e);
        }
    }

    private void accept(ServerSocket listening) {
        Thread t = new Thread(
                () -> {
                    while (!listening.isClosed()) {
                        try {
                            Socket client = listening.accept();
                            synchronized (this) {
                                if (listening.isClosed()) { // cut() while it was accepted
                                    closeQuietly(client);
                                    continue;
                                }
                                if (blackholed) {
                                    held.add(client);
                                    continue;
                                }
                            }
                            Socket upstream = new Socket();
                            try {
                                upstream.connect(target, 5000);
                                // As the drivers on both ends do: without it, a small write that follows
                                // another waits for the first one's (delayed) acknowledgement, up to 40 ms.
                                client.setTcpNoDelay(true);
                                upstream.setTcpNoDelay(true);
                            } catch (IOException e) { // the target refused: the client sees a closed socket
                                closeQuietly(client);
                                closeQuietly(upstream);
                                continue;
                            }
                            synchronized (this) {
                                // A cut() or blackhole() while this connection was being made applies to
                                // it too (they acted only on the connections they found).
                                if (listening.isClosed()) {
                                    closeQuietly(client);
                                    closeQuietly(upstream);
                                    continue;
                                }
                                if (blackholed) {
                                    closeQuietly(upstream);
                                    held.add(client);
                                    continue;
                                }
                                sockets.add(client);
                                sockets.add(upstream);
                            }
                            pump(client, upstream, true);
                            pump(upstream, client, false);
                        } catch (IOException e) {
                            // closed by cut(), or the target refused: the client sees a closed socket
                        }
                    }
                },
                "tcp-proxy-" + port);
        t.setDaemon(true);
        t.start();
    }

    private void pump(Socket from, Socket to, boolean toServer) {
        Thread t = new Thread(
                () -> {
                    byte[] buffer = new byte[16384];
                    Delayed delayed = null;
                    try (InputStream in = from.getInputStream();
                            OutputStream out = to.getOutputStream()) {
                        delayed = new Delayed(out);
                        int n;
                        while ((n = in.read(buffer)) >= 0) {
                            if (blackholed) {
                                continue; // swallowed
                            }
                            if (toServer) {
                                clientWrites.incrementAndGet();
                            }
                            long delay = delayNanos;
                            if (delay > 0 || delayed.started()) { // once delayed, always through it: in order
                                delayed.write(System.nanoTime() + delay, java.util.Arrays.copyOf(buffer, n));
                                continue;
                            }
                            out.write(buffer, 0, n);
                            out.flush();
                        }
                    } catch (IOException | InterruptedException e) {
                        // one side closed
                    } finally {
                        if (delayed != null) {
                            delayed.close();
                        }
                        closeQuietly(from);
                        closeQuietly(to);
                        sockets.remove(from);
                        sockets.remove(to);
                    }
                },
                "tcp-proxy-pump");
        t.setDaemon(true);
        t.start();
    }

    /**
     * One direction's bytes held back until they are due, then written in the order read, by a
     * thread of their own (so the reading side goes on reading meanwhile).
     */
    private static final class Delayed {
        private record Chunk(long dueNanos, byte[] bytes) {}

        private static final Chunk END = new Chunk(0, new byte[0]);

        private final java.util.concurrent.LinkedBlockingQueue<Chunk> queue =
                new java.util.concurrent.LinkedBlockingQueue<>();
        private final OutputStream out;
        private Thread writer;

        Delayed(OutputStream out) {
            this.out = out;
        }

        void write(long dueNanos, byte[] bytes) throws InterruptedException {
            if (writer == null) {
                writer = new Thread(this::run, "tcp-proxy-delay");
                writer.setDaemon(true);
                writer.start();
            }
            queue.put(new Chunk(dueNanos, bytes));
        }

        boolean started() {
            return writer != null;
        }

        void close() {
            queue.offer(END);
        }

        private void run() {
            try {
                while (true) {
                    Chunk c = queue.take();
                    if (c == END) {
                        return;
                    }
                    long wait;
                    while ((wait = c.dueNanos() - System.nanoTime()) > 0) {
                        java.util.concurrent.locks.LockSupport.parkNanos(wait);
                    }
                    out.write(c.bytes());
                    out.flush();
                }
            } catch (IOException | InterruptedException e) {
                // the connection closed
            }
        }
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // already closed
        }
    }
}
