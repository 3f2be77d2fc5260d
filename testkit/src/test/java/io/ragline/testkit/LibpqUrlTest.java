package io.ragline.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class LibpqUrlTest {
    @Test
    void aUrlOfOneServerGivesItsJdbcUrlUserAndPassword() {
        LibpqUrl url = LibpqUrl.parse("postgresql://ragline:p%40ss@127.0.0.1:5433/ragline?sslmode=disable");

        assertThat(url.jdbcUrl()).isEqualTo("jdbc:postgresql://127.0.0.1:5433/ragline?sslmode=disable");
        assertThat(url.user()).isEqualTo("ragline");
        assertThat(url.password()).isEqualTo("p@ss");
    }

    @Test
    void aUrlOfSeveralHostsIsRefusedSayingHowToRunTheTestsInstead() {
        assertThatThrownBy(() -> LibpqUrl.parse("postgresql://ragline:secret@127.0.0.1:5433,127.0.0.1:5434/ragline"
                        + "?target_session_attrs=read-write"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("must name one server")
                .hasMessageContaining("./ragline test")
                .hasMessageNotContaining("secret");
    }
}
