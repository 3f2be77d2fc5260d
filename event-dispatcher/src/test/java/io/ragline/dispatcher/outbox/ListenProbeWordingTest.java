package io.ragline.dispatcher.outbox;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;

class ListenProbeWordingTest {
    @Test
    void onlyASocketTimeoutIsReportedAsNoAnswerWithinTheBound() {
        SQLException silent = new SQLException(
                "An I/O error occurred while sending to the backend.",
                "08006",
                new SocketTimeoutException("Read timed out"));
        SQLException reset = new SQLException(
                "An I/O error occurred while sending to the backend.",
                "08006",
                new SocketException("Connection reset"));
        SQLException closed = new SQLException("This connection has been closed.", "08003");

        assertThat(OutboxDoorbell.timedOut(silent)).isTrue();
        assertThat(OutboxDoorbell.timedOut(new SQLException("wrapped", silent))).isTrue();
        assertThat(OutboxDoorbell.timedOut(reset)).isFalse();
        assertThat(OutboxDoorbell.timedOut(closed)).isFalse();
    }
}
