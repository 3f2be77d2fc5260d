package io.ragline.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link TcpProxy#delay}: through a delaying proxy an echo server's answer comes back whole and in
 * order, and no sooner than a round trip of the delay (a lower bound only: the machine may add to
 * it, never take from it).
 */
class TcpProxyDelayTest {
    @Test
    void everyByteArrivesInOrderAndNoSoonerThanTheDelayInEachDirection() throws Exception {
        try (ServerSocket echo = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread server = new Thread(() -> {
                try (Socket s = echo.accept();
                        InputStream in = s.getInputStream();
                        OutputStream out = s.getOutputStream()) {
                    in.transferTo(out);
                } catch (Exception ignored) {
                    // the client closed
                }
            });
            server.setDaemon(true);
            server.start();
            byte[] sent = new byte[200_000];
            new Random(7).nextBytes(sent);
            try (TcpProxy proxy = new TcpProxy("127.0.0.1", echo.getLocalPort()).delay(Duration.ofMillis(25));
                    Socket client = new Socket(InetAddress.getLoopbackAddress(), proxy.port())) {
                client.setSoTimeout(30_000); // bytes lost: a failure, not a hang
                long start = System.nanoTime();
                Thread writer = new Thread(() -> {
                    try {
                        OutputStream out = client.getOutputStream();
                        for (int at = 0; at < sent.length; at += 1000) {
                            out.write(sent, at, Math.min(1000, sent.length - at));
                        }
                        out.flush();
                    } catch (Exception ignored) {
                        // the test fails on what was read
                    }
                });
                writer.start();
                InputStream in = client.getInputStream();
                int first = in.read();
                long firstByte = System.nanoTime() - start;
                byte[] received = new byte[sent.length];
                received[0] = (byte) first;
                int n = 1;
                while (n < received.length) {
                    int r = in.read(received, n, received.length - n);
                    if (r < 0) {
                        break;
                    }
                    n += r;
                }
                writer.join();

                assertThat(n).isEqualTo(sent.length);
                assertThat(received).isEqualTo(sent);
                assertThat(Duration.ofNanos(firstByte)).isGreaterThanOrEqualTo(Duration.ofMillis(50));
            }
        }
    }
}
