package io.ragline.contracts.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ragline.contracts.InvalidMessageException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class TrainingRequestCodecTest {
    private final TrainingRequestCodec codec = new TrainingRequestCodec();

    private record Raw(String key, byte[] value) {}

    private static Raw record(String key, String value) {
        return new Raw(key, value == null ? null : value.getBytes(StandardCharsets.UTF_8));
    }

    private TrainingRequest decode(Raw r) throws InvalidMessageException {
        return codec.decode(r.key(), r.value());
    }

    @Test
    void aBuiltinRequestDecodesWithDefaults() throws Exception {
        TrainingRequest r = decode(
                record(
                        "sections",
                        "{\"schema_version\":1,\"request_id\":\"r1\",\"project\":\"sections\",\"task\":\"classification\","
                                + "\"backend\":\"builtin\",\"data\":{\"collection\":\"packages\",\"label_path\":\"meta.section\"}}"));
        assertThat(r.requestId()).isEqualTo("r1");
        assertThat(r.backend()).isEqualTo(TrainingRequest.Backend.BUILTIN);
        assertThat(r.algorithm()).isEqualTo("softmax_regression");
        assertThat(r.testSize()).isEqualTo(0.25);
        assertThat(r.testSampling()).isEqualTo("stratified");
        assertThat(r.deploy()).isEqualTo(TrainingRequest.Deploy.IF_BETTER);
        assertThat(r.collection()).isEqualTo("packages");
        assertThat(r.labelPath()).containsExactly("meta", "section");
    }

    @Test
    void aPgmlTrainRequestWithSearchDecodes() throws Exception {
        TrainingRequest r = decode(
                record(
                        null,
                        "{\"request_id\":\"r2\",\"project\":\"Price model\",\"task\":\"regression\",\"backend\":\"pgml\","
                                + "\"data\":{\"relation\":\"public.houses\",\"label_column\":\"price\"},\"algorithm\":\"xgboost\","
                                + "\"hyperparameters\":{\"n_estimators\":10},\"test_size\":0.2,\"test_sampling\":\"last\","
                                + "\"deploy\":\"always\",\"search\":{\"search\":\"grid\",\"search_params\":{\"max_depth\":[1,2]}}}"));
        assertThat(r.algorithm()).isEqualTo("xgboost");
        assertThat(r.search()).isPresent();
        assertThat(r.deploy()).isEqualTo(TrainingRequest.Deploy.ALWAYS);
    }

    @Test
    void everyProblemIsNamedAtOnce() {
        assertThatThrownBy(() -> decode(record(
                        "p",
                        "{\"request_id\":\"\",\"project\":\"p\",\"task\":\"regression\",\"backend\":\"builtin\","
                                + "\"data\":{\"relation\":\"t\"},\"algorithm\":\"xgboost\",\"test_size\":1.5,"
                                + "\"hyperparameters\":{\"epochs\":0,\"momentum\":0.9},\"deploy\":\"sometimes\","
                                + "\"colour\":\"blue\"}")))
                .isInstanceOf(InvalidMessageException.class)
                .hasMessageContaining("unknown field 'colour'")
                .hasMessageContaining("request_id must have 1 to 200 characters")
                .hasMessageContaining("the builtin backend trains classification only")
                .hasMessageContaining("data.relation is not used by the builtin backend")
                .hasMessageContaining("missing data.collection")
                .hasMessageContaining("missing data.label_path")
                .hasMessageContaining("algorithm 'xgboost' is not a builtin algorithm")
                .hasMessageContaining("hyperparameters.momentum is not a builtin hyperparameter")
                .hasMessageContaining("hyperparameters.epochs must be between 1 and 1000000")
                .hasMessageContaining("test_size must be a number above 0 and below 1")
                .hasMessageContaining("deploy must be one of if_better, always, never, not 'sometimes'");
    }

    @Test
    void notJsonAKeyMismatchAndATombstoneArePoison() {
        assertThatThrownBy(() -> decode(record("p", "{nope")))
                .isInstanceOf(InvalidMessageException.class)
                .hasMessageStartingWith("not JSON");
        assertThatThrownBy(() -> decode(record(null, null))).hasMessageContaining("tombstone");
        assertThatThrownBy(() -> decode(record(
                        "other",
                        "{\"request_id\":\"r\",\"project\":\"p\",\"task\":\"classification\",\"backend\":\"builtin\","
                                + "\"data\":{\"collection\":\"c\",\"label_path\":\"l\"}}")))
                .hasMessageContaining("the key 'other' does not match project 'p'");
    }

    @Test
    void pgmlTuneNeedsAModelNameForTextTasks() {
        assertThatThrownBy(() -> decode(record(
                        "p",
                        "{\"request_id\":\"r\",\"project\":\"p\",\"task\":\"text-classification\",\"backend\":\"pgml\","
                                + "\"data\":{\"relation\":\"t\",\"label_column\":\"y\"}}")))
                .hasMessageContaining("other tasks need model_name, for pgml.tune");
    }
}
