package io.ragline.devstack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;

/** Loopback ports: finding a free one, remembering it across restarts, and waiting for a listener. */
public final class Ports {
    private Ports() {}

    public static int free() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free loopback port", e);
        }
    }

    /**
     * A free port below Linux's ephemeral range (32768 and up by default), from which the system
     * picks both {@link #free()}'s ports and the local ports of outgoing connections: a port chosen
     * there may be taken by any connection before the server that is to listen on it binds, which
     * happens on a busy machine. Falls back to {@link #free()}.
     */
    public static int freeBelowEphemeral() {
        java.util.concurrent.ThreadLocalRandom random = java.util.concurrent.ThreadLocalRandom.current();
        for (int i = 0; i < 100; i++) {
            int port = random.nextInt(EPHEMERAL_FLOOR - 12_000, EPHEMERAL_FLOOR);
            if (isFree(port)) {
                return port;
            }
        }
        return free();
    }

    private static final int EPHEMERAL_FLOOR = 32_768;

    public static boolean isFree(int port) {
        try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    public static boolean accepts(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** The port stored in {@code file} if it is still free (or {@code inUseIsOk}), else a new one, stored. */
    public static int remembered(Path file, boolean inUseIsOk) {
        try {
            if (Files.exists(file)) {
                int port = Integer.parseInt(Files.readString(file).strip());
                if (inUseIsOk || isFree(port)) {
                    return port;
                }
            }
            int port = free();
            Files.createDirectories(file.getParent());
            Files.writeString(file, port + "\n");
            return port;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read or write " + file, e);
        }
    }
}
