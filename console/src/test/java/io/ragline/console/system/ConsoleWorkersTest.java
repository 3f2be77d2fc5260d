package io.ragline.console.system;

import static org.assertj.core.api.Assertions.assertThat;

import io.ragline.core.config.Env;
import java.net.URI;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConsoleWorkersTest {
    private static ConsoleWorkers read(String value, Env[] env) {
        env[0] = new Env(value == null ? Map.of() : Map.of(ConsoleWorkers.WORKERS, value));
        return ConsoleWorkers.from(env[0], ConsoleWorkers.local("all", 9080));
    }

    @Test
    void namedAdminUrlsAreReadInTheirOrder() {
        Env[] env = new Env[1];
        ConsoleWorkers w = read("ingest=http://ingest:9081, embedding=https://10.0.0.7:9082/admin", env);
        assertThat(env[0].problems()).isEmpty();
        assertThat(w.workers()).extracting(ConsoleWorkers.Worker::name).containsExactly("ingest", "embedding");
        assertThat(w.workers().get(1).resolve("/health/ready"))
                .isEqualTo(URI.create("https://10.0.0.7:9082/admin/health/ready"));
    }

    @Test
    void unsetGivesTheProcesssDefault() {
        Env[] env = new Env[1];
        assertThat(read(null, env).toString()).isEqualTo("all=http://127.0.0.1:9080");
        assertThat(env[0].problems()).isEmpty();
    }

    @Test
    void theReadmeDocumentsTheVariable() {
        assertThat(io.ragline.testkit.ReadmeConfiguration.read().variables())
                .containsAll(io.ragline.testkit.ReadmeConfiguration.variablesOf(ConsoleWorkers.class));
    }

    @Test
    void unsetIsNotConfiguredSoADefaultKnownOnlyAtRunTimeCanStandIn() {
        assertThat(ConsoleWorkers.configured(new Env(Map.of()))).isEmpty();
        assertThat(ConsoleWorkers.configured(new Env(Map.of(ConsoleWorkers.WORKERS, "a=http://h:1"))))
                .map(ConsoleWorkers::toString)
                .contains("a=http://h:1");
    }

    @Test
    void everyBadEntryIsAProblemNamingTheVariableAndTheEntry() {
        Env[] env = new Env[1];
        ConsoleWorkers w = read("ingest, a=ftp://x:1, a=http://y:2, b=http://h:1/?q=1, =http://z:3", env);
        assertThat(w.toString()).isEqualTo("all=http://127.0.0.1:9080");
        assertThat(env[0].problems())
                .anySatisfy(p -> assertThat(p).contains("RAGLINE_CONSOLE_WORKERS entry 'ingest' is not name="))
                .anySatisfy(p -> assertThat(p).contains("RAGLINE_CONSOLE_WORKERS entry '=http://z:3'"));
    }

    @Test
    void theRecordRefusesDuplicatesSchemesAndQueriesAtOnce() {
        Env env = new Env(Map.of(ConsoleWorkers.WORKERS, "a=ftp://x:1,a=http://y:2,b=http://h:1/?q=1"));
        ConsoleWorkers.from(env, ConsoleWorkers.none());
        assertThat(env.problems())
                .anySatisfy(p -> assertThat(p).contains("entry 'a': 'ftp://x:1' is not an http:// or https://"))
                .anySatisfy(p -> assertThat(p).contains("entry 'a' is named twice"))
                .anySatisfy(p -> assertThat(p).contains("entry 'b': 'http://h:1/?q=1' must end at its port or path"));
    }

    @Test
    void credentialsInAnAdminUrlAreRefusedWithoutBeingRepeated() {
        Env env = new Env(Map.of(ConsoleWorkers.WORKERS, "a=http://user:s3cret@h:1,b=http://user:s3cret@h:1 x"));
        ConsoleWorkers.from(env, ConsoleWorkers.none());
        assertThat(env.problems()).isNotEmpty().allSatisfy(p -> assertThat(p).doesNotContain("s3cret"));
        assertThat(env.problems()).anySatisfy(p -> assertThat(p).contains("entry 'a': an admin URL holds no"));
    }
}
