package io.ragline.core.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ragline.core.config.ConfigException;
import io.ragline.core.config.Secret;
import org.junit.jupiter.api.Test;

class ApiTokensTest {
    static final String FIRST = "first-token-0123456789";
    static final String SECOND = "c2Vjb25kIHRva2VuIG9mIHRoZSBsaXN0Cg==";

    static ApiTokens parse(String list) {
        return ApiTokens.parse("RAGLINE_API_TOKENS", Secret.of(list));
    }

    static ConfigException refused(String list) {
        return (ConfigException) org.assertj.core.api.Assertions.catchThrowable(() -> parse(list));
    }

    @Test
    void aCommaSeparatedListGivesEveryBareTokenFullAccess() {
        ApiTokens tokens = parse(" " + FIRST + " ,\n" + SECOND + "\n");

        assertThat(tokens.size()).isEqualTo(2);
        assertThat(tokens.authenticate(FIRST).orElseThrow().role()).isEqualTo(ApiTokens.Role.ADMIN);
        assertThat(tokens.authenticate(SECOND).orElseThrow().role()).isEqualTo(ApiTokens.Role.ADMIN);
    }

    @Test
    void aRoleAndANameBeforeTheTokenGiveItsRoleAndTheNameTheAuditLogRecords() {
        ApiTokens tokens = parse("viewer:" + FIRST + ", Operator:alice@ops:" + SECOND);

        assertThat(tokens.authenticate(FIRST).orElseThrow().role()).isEqualTo(ApiTokens.Role.VIEWER);
        assertThat(tokens.authenticate(FIRST).orElseThrow().name()).matches("viewer token [0-9a-f]{8}");
        assertThat(tokens.authenticate(SECOND)).contains(new Caller("alice@ops", ApiTokens.Role.OPERATOR));
        assertThat(tokens.authenticate("viewer:" + FIRST))
                .as("the role is not part of the token")
                .isEmpty();
    }

    @Test
    void aTokenGivenTwiceIsRefusedWhateverItsRoles() {
        ConfigException e = refused("viewer:" + FIRST + "," + SECOND + ",admin:" + FIRST);

        assertThat(e.problems())
                .containsExactly("RAGLINE_API_TOKENS: token 3 of 3 is the same token as token 1; give each token once,"
                        + " with one role");
        assertThat(e.getMessage()).doesNotContain(FIRST);
    }

    @Test
    void eachRoleMayDoWhatTheRolesBeforeItMay() {
        assertThat(ApiTokens.Role.ADMIN.allows(ApiTokens.Role.OPERATOR)).isTrue();
        assertThat(ApiTokens.Role.OPERATOR.allows(ApiTokens.Role.VIEWER)).isTrue();
        assertThat(ApiTokens.Role.OPERATOR.allows(ApiTokens.Role.ADMIN)).isFalse();
        assertThat(ApiTokens.Role.VIEWER.allows(ApiTokens.Role.OPERATOR)).isFalse();
    }

    @Test
    void aFileWithOneTokenPerLineIsAListToo() {
        assertThat(parse(FIRST + "\r\n" + SECOND + "\r\n").size()).isEqualTo(2);
    }

    @Test
    void aTokenThatDiffersInOneCharacterOrIsAPrefixOrAnExtensionIsRefused() {
        ApiTokens tokens = parse(FIRST + "," + SECOND);

        assertThat(tokens.authenticate(FIRST.substring(0, FIRST.length() - 1) + "X"))
                .isEmpty();
        assertThat(tokens.authenticate("X" + FIRST.substring(1))).isEmpty();
        assertThat(tokens.authenticate(FIRST.substring(0, 16))).isEmpty();
        assertThat(tokens.authenticate(FIRST + "0")).isEmpty();
        assertThat(tokens.authenticate(FIRST.toUpperCase(java.util.Locale.ROOT)))
                .isEmpty();
        assertThat(tokens.authenticate("")).isEmpty();
    }

    @Test
    void noTokenAuthenticatesAgainstAnEmptyList() {
        assertThat(ApiTokens.none().isEmpty()).isTrue();
        assertThat(ApiTokens.none().authenticate(FIRST)).isEmpty();
    }

    @Test
    void onlyTheHashesAreKeptAndNothingPrintsAToken() throws Exception {
        ApiTokens tokens = parse(FIRST + "," + SECOND);

        assertThat(tokens.toString()).isEqualTo("2 tokens");
        // Every field, down to the entries' byte arrays, holds hashes: neither token's bytes appear.
        java.lang.reflect.Field entries = ApiTokens.class.getDeclaredField("entries");
        entries.setAccessible(true);
        for (Object entry : (java.util.List<?>) entries.get(tokens)) {
            byte[] hash = (byte[]) entry.getClass().getMethod("hash").invoke(entry);
            assertThat(hash).hasSize(32);
            assertThat(new String(hash, java.nio.charset.StandardCharsets.ISO_8859_1))
                    .doesNotContain(FIRST)
                    .doesNotContain(SECOND);
        }
    }

    @Test
    void aShortTokenIsRefusedNamingTheVariableAndPositionButNotTheToken() {
        ConfigException e = refused(FIRST + ",short-secret-1");

        assertThat(e.problems())
                .containsExactly("RAGLINE_API_TOKENS: token 2 of 2 is 14 characters long; it must have 16 to 512"
                        + " (for instance `openssl rand -base64 32`)");
        assertThat(e.getMessage()).doesNotContain("short-secret-1").doesNotContain(FIRST);
    }

    @Test
    void anUnknownRoleABadNameOrAThirdColonIsRefusedWithoutShowingTheEntry() {
        ConfigException e = refused("reader:" + FIRST + ",viewer:bad name:" + SECOND + ",a:b:c:" + FIRST);

        assertThat(e.problems())
                .containsExactly(
                        "RAGLINE_API_TOKENS: token 1 of 3 has a role that is not viewer, operator or admin",
                        "RAGLINE_API_TOKENS: token 2 of 3 has a name that is not 1 to 64 characters of A-Z a-z 0-9 . _"
                                + " @ -",
                        "RAGLINE_API_TOKENS: token 3 of 3 has more than two ':'; the forms are TOKEN, ROLE:TOKEN and"
                                + " ROLE:NAME:TOKEN");
        assertThat(e.getMessage()).doesNotContain(FIRST).doesNotContain(SECOND).doesNotContain("reader");
    }

    @Test
    void aCharacterABearerHeaderCannotCarryIsRefused() {
        ConfigException e = refused("token with spaces in it!");

        assertThat(e.problems()).singleElement().asString().contains("outside A-Z a-z 0-9");
        assertThat(e.getMessage()).doesNotContain("spaces");
    }

    @Test
    void everyBadEntryIsReportedAtOnceAndAnEmptyListIsAProblem() {
        assertThat(refused("short,also short!,ok:" + FIRST).problems()).hasSize(3);
        assertThat(refused(" , ").problems()).singleElement().asString().contains("holds no token");
    }

    @Test
    void theVariableNamedIsTheOneTheListCameFrom() {
        assertThatThrownBy(() -> ApiTokens.parse("RAGLINE_API_TOKENS_FILE", Secret.of("short")))
                .hasMessageContaining("RAGLINE_API_TOKENS_FILE: token 1 of 1");
    }
}
