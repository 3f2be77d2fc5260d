package io.ragline.console.browser;

import static io.ragline.console.ConsoleTestServer.ADMIN;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ragline.console.ConsoleTestServer;
import io.ragline.testkit.PostgresSchema;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;

/**
 * The web console in a real headless Chromium against the real console server, Postgres and
 * Kafka: every page loads with no error in the browser's console, the operator's actions go
 * through the API, and each one is in the audit log page.
 */
class ConsoleBrowserIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    static ConsoleTestServer console;

    @BeforeAll
    static void start() {
        console = ConsoleTestServer.start(db.env(), (runtime, routes) -> {});
    }

    @AfterAll
    static void stop() {
        if (console != null) {
            console.close();
        }
    }

    @Test
    void theConsoleAsksForATokenKeepsItForTheTabAndForgetsItOnRequest() {
        try (Browser browser = Browser.start()) {
            ConsolePage page = new ConsolePage(browser, console.uri("/"));

            page.openSignedOut("audit");
            assertThat(page.element(By.id("main")).isDisplayed()).isFalse();
            assertThat(browser.consoleErrors())
                    .as("only the API's 401, which brought the sign-in box")
                    .allSatisfy(m -> assertThat(m).contains("401"));
            browser.forgetConsoleMessages();

            page.signIn(ADMIN, "audit");
            browser.driver().navigate().refresh();
            page.awaitLoaded("audit");
            assertThat(page.element(By.id("login")).isDisplayed()).isFalse();
            browser.assertNoConsoleErrors();

            page.element(By.id("sign-out")).click();
            await().ignoreExceptions()
                    .untilAsserted(() -> assertThat(page.element(By.id("login")).isDisplayed())
                            .isTrue());
            assertThat(browser.driver().executeScript("return sessionStorage.length"))
                    .isEqualTo(0L);
        }
    }

    @Test
    void aTokenTheApiDoesNotKnowIsRefusedAndAskedForAgain() {
        try (Browser browser = Browser.start()) {
            ConsolePage page = new ConsolePage(browser, console.uri("/"));
            page.openSignedOut("audit");

            page.element(By.id("login-token")).sendKeys("not-a-token-of-this-console-0000");
            page.element(By.id("login-submit")).click();

            await().ignoreExceptions()
                    .untilAsserted(
                            () -> assertThat(page.element(By.id("login-reason")).getText())
                                    .contains("refused the token"));
            assertThat(page.element(By.id("main")).isDisplayed()).isFalse();
        }
    }
}
