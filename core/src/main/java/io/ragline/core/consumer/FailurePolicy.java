package io.ragline.core.consumer;

import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import java.sql.SQLException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTimeoutException;
import java.sql.SQLTransientException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.FencedInstanceIdException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.UnreleasedInstanceIdException;

/**
 * The failure policy as data: an ordered list of rules, the first whose predicate matches any
 * exception in the cause chain decides. {@link #defaults()} is the policy every worker starts
 * from; a worker may put its own rules in front with {@link #withRule}.
 */
public final class FailurePolicy {
    /** A rule: when {@code matches} holds for an exception in the chain, the failure is {@code kind}. */
    public record Rule(String name, Predicate<Throwable> matches, FailureKind kind) {}

    /**
     * SQLSTATE classes and codes. 08 connection, 53 insufficient resources, 57P01-57P03 server
     * shutting down or starting, 40001/40P01 serialization failure and deadlock, 55P03 lock not
     * available, 57014 statement timeout, 25006 read-only transaction (a write that reached a
     * standby, or a primary being demoted, during a failover): transient. 28 invalid authorization, 3D000 invalid
     * database, 3F000 invalid schema, 42P01 undefined table, 42883 undefined function, 42501
     * insufficient privilege: fatal (retrying cannot help). 22 data exception and 23 integrity
     * constraint violation: poison (the record's content is refused).
     */
    static final Set<String> TRANSIENT_SQLSTATES =
            Set.of("57P01", "57P02", "57P03", "40001", "40P01", "55P03", "57014", "25006");

    static final Set<String> FATAL_SQLSTATES = Set.of("3D000", "3F000", "42P01", "42883", "42501");

    private final List<Rule> rules;

    private FailurePolicy(List<Rule> rules) {
        this.rules = List.copyOf(rules);
    }

    public static FailurePolicy defaults() {
        List<Rule> rules = new ArrayList<>();
        rules.add(new Rule("poison record", t -> t instanceof PoisonRecordException, FailureKind.POISON));
        rules.add(new Rule("undeserialisable", t -> t instanceof SerializationException, FailureKind.POISON));
        rules.add(new Rule("kafka authentication", t -> t instanceof AuthenticationException, FailureKind.FATAL));
        rules.add(new Rule("kafka authorization", t -> t instanceof AuthorizationException, FailureKind.FATAL));
        // Another live member has this consumer's group.instance.id (two processes given the same
        // RAGLINE_KAFKA_GROUP_INSTANCE_ID or HOSTNAME): going on would fence the other in turn, for ever.
        rules.add(new Rule(
                "kafka group.instance.id in use by another member",
                t -> t instanceof FencedInstanceIdException || t instanceof UnreleasedInstanceIdException,
                FailureKind.FATAL));
        rules.add(new Rule("circuit breaker open", t -> t instanceof CallNotPermittedException, FailureKind.TRANSIENT));
        rules.add(new Rule(
                "sql fatal",
                t -> sqlState(t, s -> s.startsWith("28") || FATAL_SQLSTATES.contains(s)),
                FailureKind.FATAL));
        rules.add(new Rule(
                "sql transient",
                t -> sqlState(t, s -> s.startsWith("08") || s.startsWith("53") || TRANSIENT_SQLSTATES.contains(s)),
                FailureKind.TRANSIENT));
        rules.add(new Rule(
                "sql data", t -> sqlState(t, s -> s.startsWith("22") || s.startsWith("23")), FailureKind.POISON));
        rules.add(new Rule(
                "sql transient type",
                t -> t instanceof SQLTransientException
                        || t instanceof SQLRecoverableException
                        || t instanceof SQLTimeoutException,
                FailureKind.TRANSIENT));
        rules.add(new Rule("kafka retriable", t -> t instanceof RetriableException, FailureKind.TRANSIENT));
        rules.add(new Rule(
                "timeout",
                t -> t instanceof java.util.concurrent.TimeoutException
                        || t instanceof org.apache.kafka.common.errors.TimeoutException
                        || t instanceof java.net.SocketTimeoutException
                        || t instanceof java.net.ConnectException,
                FailureKind.TRANSIENT));
        return new FailurePolicy(rules);
    }

    /** A policy with {@code rule} tried before every existing rule. */
    public FailurePolicy withRule(Rule rule) {
        List<Rule> all = new ArrayList<>();
        all.add(rule);
        all.addAll(rules);
        return new FailurePolicy(all);
    }

    public FailureKind classify(Throwable failure) {
        for (Rule rule : rules) {
            for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
                if (rule.matches().test(t)) {
                    return rule.kind();
                }
            }
        }
        return FailureKind.UNKNOWN;
    }

    private static boolean sqlState(Throwable t, Predicate<String> test) {
        return t instanceof SQLException e && e.getSQLState() != null && test.test(e.getSQLState());
    }
}
