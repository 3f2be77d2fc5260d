package io.ragline.core.db;

import static org.assertj.core.api.Assertions.assertThat;

import io.ragline.core.config.DatabaseUrl;
import java.io.EOFException;
import java.net.ConnectException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.security.cert.CertPathBuilderException;
import java.sql.SQLException;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;
import org.postgresql.util.PSQLException;
import org.postgresql.util.PSQLState;

/**
 * Which connection failures start-up waits for: the exceptions are built as pgjdbc builds them
 * (its SQL states and causes); StartupWaitIT meets the real ones.
 */
class ConnectFailureTest {
    static final DatabaseUrl URL =
            DatabaseUrl.parse("postgresql://ragline:Secret-1@db:5432/rag").url().orElseThrow();

    @Test
    void aRefusedConnectionIsRetryable() {
        assertThat(retryable(unableToConnect(
                        "Connection to db:5432 refused. Check that the hostname and port are correct",
                        new ConnectException("Connection refused"))))
                .isTrue();
    }

    @Test
    void aConnectionAttemptThatTimedOutOrFoundNoHostIsRetryable() {
        assertThat(retryable(unableToConnect("The connection attempt failed.", new SocketTimeoutException())))
                .isTrue();
        assertThat(retryable(unableToConnect("The connection attempt failed.", new UnknownHostException("db"))))
                .isTrue();
        assertThat(retryable(unableToConnect("Connection attempt timed out.", null)))
                .isTrue();
    }

    @Test
    void noServerOfTheRequestedTargetServerTypeYetIsRetryableAsAFailoverInProgress() {
        assertThat(retryable(unableToConnect("Could not find a server with specified targetServerType: primary", null)))
                .isTrue();
    }

    @Test
    void aServerStartingUpOrShuttingDownIsRetryable() {
        assertThat(retryable(new SQLException("FATAL: the database system is starting up", "57P03")))
                .isTrue();
        assertThat(retryable(new SQLException("FATAL: the database system is shutting down", "57P03")))
                .isTrue();
        assertThat(retryable(new SQLException("FATAL: terminating connection due to administrator command", "57P01")))
                .isTrue();
        assertThat(retryable(new SQLException("FATAL: sorry, too many clients already", "53300")))
                .isTrue();
        assertThat(retryable(new SQLException(
                        "FATAL: terminating connection because of crash of another server process", "57P02")))
                .isTrue();
    }

    @Test
    void aConnectionResetMidHandshakeIsRetryableEvenUnderTls() {
        assertThat(retryable(new PSQLException(
                        "An I/O error occurred while sending to the backend.",
                        PSQLState.CONNECTION_FAILURE,
                        new SocketException("Connection reset"))))
                .isTrue();
        assertThat(retryable(unableToConnect(
                        "The connection attempt failed.",
                        new SSLException("Connection reset", new SocketException("Connection reset")))))
                .isTrue();
        assertThat(retryable(unableToConnect(
                        "The connection attempt failed.",
                        causedBy(
                                new SSLHandshakeException("Remote host terminated the handshake"),
                                new EOFException()))))
                .isTrue();
    }

    @Test
    void aConnectionTheDriverClosedAfterABreakIsRetryableAsFlywayReportsIt() {
        // The long chaos soak: a worker restarted during a Postgres cut exited 1 from its migration,
        // Flyway's "Unable to read database connection metadata" over this: its connection had broken
        // under an earlier statement, pgjdbc had closed it, and the next use got 08003.
        PSQLException closed =
                new PSQLException("This connection has been closed.", PSQLState.CONNECTION_DOES_NOT_EXIST);
        assertThat(closed.getSQLState()).isEqualTo("08003");
        assertThat(retryable(closed)).isTrue();
    }

    @Test
    void aRefusedLoginOrAnUnknownDatabaseIsNotRetryable() {
        assertThat(retryable(new SQLException("FATAL: password authentication failed for user \"ragline\"", "28P01")))
                .isFalse();
        assertThat(retryable(new SQLException("FATAL: no pg_hba.conf entry for host", "28000")))
                .isFalse();
        assertThat(retryable(new SQLException("FATAL: database \"rag\" does not exist", "3D000")))
                .isFalse();
        assertThat(retryable(new SQLException("no state"))).isFalse();
    }

    @Test
    void aTlsOrCertificateProblemIsNotRetryableThoughPgjdbcReportsItAsAConnectionFailure() {
        assertThat(retryable(new PSQLException(
                        "The hostname db could not be verified by hostnameverifier PgjdbcHostnameVerifier.",
                        PSQLState.CONNECTION_FAILURE)))
                .isFalse();
        assertThat(retryable(unableToConnect(
                        "SSL error: PKIX path building failed",
                        causedBy(
                                new SSLHandshakeException("PKIX path building failed"),
                                new CertPathBuilderException("unable to find valid certification path")))))
                .isFalse();
        assertThat(retryable(unableToConnect(
                        "SSL error: Received fatal alert: handshake_failure",
                        new SSLHandshakeException("Received fatal alert: handshake_failure"))))
                .isFalse();
    }

    private static boolean retryable(SQLException e) {
        return ConnectFailure.retryable(URL, e);
    }

    private static <T extends Throwable> T causedBy(T failure, Throwable cause) {
        failure.initCause(cause);
        return failure;
    }

    private static PSQLException unableToConnect(String message, Throwable cause) {
        return new PSQLException(message, PSQLState.CONNECTION_UNABLE_TO_CONNECT, cause);
    }
}
