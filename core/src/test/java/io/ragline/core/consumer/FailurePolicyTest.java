package io.ragline.core.consumer;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import org.apache.kafka.common.errors.NotLeaderOrFollowerException;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.junit.jupiter.api.Test;

class FailurePolicyTest {
    private final FailurePolicy policy = FailurePolicy.defaults();

    @Test
    void badRecordsArePoison() {
        assertThat(policy.classify(new PoisonRecordException("missing id"))).isEqualTo(FailureKind.POISON);
        assertThat(policy.classify(new SerializationException("bad bytes"))).isEqualTo(FailureKind.POISON);
        assertThat(policy.classify(new SQLException("value too long", "22001"))).isEqualTo(FailureKind.POISON);
        assertThat(policy.classify(new SQLException("violates check", "23514"))).isEqualTo(FailureKind.POISON);
    }

    @Test
    void anotherMemberWithThisConsumersInstanceIdStopsTheProcessInsteadOfFencingItForEver() {
        assertThat(policy.classify(new org.apache.kafka.common.errors.FencedInstanceIdException("fenced")))
                .isEqualTo(FailureKind.FATAL);
        assertThat(policy.classify(new org.apache.kafka.common.errors.UnreleasedInstanceIdException("in use")))
                .isEqualTo(FailureKind.FATAL);
    }

    @Test
    void anUnavailableDatabaseOrBrokerIsTransient() {
        assertThat(policy.classify(new SQLException("connection refused", "08001")))
                .isEqualTo(FailureKind.TRANSIENT);
        assertThat(policy.classify(new SQLException("terminating connection", "57P01")))
                .isEqualTo(FailureKind.TRANSIENT);
        assertThat(policy.classify(new SQLException("deadlock detected", "40P01")))
                .isEqualTo(FailureKind.TRANSIENT);
        assertThat(policy.classify(new SQLTransientConnectionException("pool timeout")))
                .isEqualTo(FailureKind.TRANSIENT);
        assertThat(policy.classify(new NotLeaderOrFollowerException("moved"))).isEqualTo(FailureKind.TRANSIENT);
        assertThat(policy.classify(
                        CallNotPermittedException.createCallNotPermittedException(CircuitBreaker.ofDefaults("db"))))
                .isEqualTo(FailureKind.TRANSIENT);
    }

    @Test
    void aWriteRefusedByAServerThatIsNoLongerThePrimaryIsTransient() {
        assertThat(policy.classify(new SQLException("cannot execute INSERT in a read-only transaction", "25006")))
                .isEqualTo(FailureKind.TRANSIENT);
    }

    @Test
    void whatRetryingCannotFixIsFatal() {
        assertThat(policy.classify(new SQLException("password authentication failed", "28P01")))
                .isEqualTo(FailureKind.FATAL);
        assertThat(policy.classify(new SQLException("relation does not exist", "42P01")))
                .isEqualTo(FailureKind.FATAL);
        assertThat(policy.classify(new SaslAuthenticationException("bad credentials")))
                .isEqualTo(FailureKind.FATAL);
        assertThat(policy.classify(new TopicAuthorizationException("denied"))).isEqualTo(FailureKind.FATAL);
    }

    @Test
    void theCauseChainIsSearchedAndTheUnrecognisedIsUnknown() {
        RuntimeException wrapped = new RuntimeException("write failed", new SQLException("gone", "08006"));

        assertThat(policy.classify(wrapped)).isEqualTo(FailureKind.TRANSIENT);
        assertThat(policy.classify(new IllegalStateException("surprise"))).isEqualTo(FailureKind.UNKNOWN);
    }

    @Test
    void aWorkerRuleComesFirst() {
        FailurePolicy custom = policy.withRule(new FailurePolicy.Rule(
                "illegal state is poison here", t -> t instanceof IllegalStateException, FailureKind.POISON));

        assertThat(custom.classify(new IllegalStateException("bad"))).isEqualTo(FailureKind.POISON);
    }
}
