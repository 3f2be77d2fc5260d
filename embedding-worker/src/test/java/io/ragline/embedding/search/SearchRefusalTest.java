package io.ragline.embedding.search;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.SQLException;
import org.junit.jupiter.api.Test;

class SearchRefusalTest {
    @Test
    void aFilterThePathCheckRefusesIsTheFiltersFault() {
        assertThat(SearchRefusal.of(new SQLException("ERROR: filter.year.$gt: must be a number", "22023")))
                .hasValueSatisfying(r -> {
                    assertThat(r.field()).isEqualTo("filter");
                    assertThat(r.message()).isEqualTo("filter.year.$gt: must be a number");
                });
    }

    @Test
    void aNulTheDatabaseCannotStoreIsTheFiltersFault() {
        assertThat(SearchRefusal.of(new SQLException("ERROR: unsupported Unicode escape sequence", "22P05")))
                .hasValueSatisfying(r -> assertThat(r.field()).isEqualTo("filter"));
    }

    @Test
    void aParameterSearchDocumentsRefusesIsTheRequestsFault() {
        assertThat(SearchRefusal.of(new SQLException("ERROR: match_count must be between 1 and 1000", "22023")))
                .hasValueSatisfying(r -> assertThat(r.field()).isEqualTo("request"));
    }

    @Test
    void dataExceptionsOfTheServersOwnAreNotTheRequests() {
        // The model's vector does not fit the collection; a model's value overflows a halfvec.
        assertThat(SearchRefusal.of(new SQLException("query vector has 384 dimensions", "22000")))
                .isEmpty();
        assertThat(SearchRefusal.of(new SQLException("value 70000 is out of range for type halfvec", "22003")))
                .isEmpty();
        assertThat(SearchRefusal.of(new SQLException("connection reset", "08006")))
                .isEmpty();
    }
}
