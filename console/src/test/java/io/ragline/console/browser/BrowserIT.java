package io.ragline.console.browser;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.logging.LogEntry;

/** The harness itself: it sees what a page logs, and its "no console errors" check can fail. */
class BrowserIT {
    private static final String ICON = "<link rel=\"icon\" href=\"data:,\">";
    private static final Map<String, String> PAGES = Map.of(
            "/quiet", page("<p id=\"done\">quiet</p><script>console.log('only information')</script>"),
            "/logs-error", page("<script>console.error('the page broke: code 17')</script><p id=\"done\">x</p>"),
            "/throws", page("<p id=\"done\">x</p><script>throw new Error('uncaught in the page')</script>"));

    private static HttpServer server;

    @TempDir
    Path dir;

    @BeforeAll
    static void serve() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        PAGES.forEach((path, html) -> server.createContext(path, ex -> {
            byte[] body = html.getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "text/html; charset=utf-8");
            ex.sendResponseHeaders(200, body.length);
            try (ex) {
                ex.getResponseBody().write(body);
            }
        }));
        server.start();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.stop(0);
        }
    }

    @Test
    void aPageThatLogsAnErrorFailsTheNoConsoleErrorsCheck() {
        try (Browser browser = Browser.start()) {
            browser.open(url("/logs-error"));

            assertThat(browser.consoleErrors()).anySatisfy(m -> assertThat(m).contains("the page broke: code 17"));
            assertThatThrownBy(browser::assertNoConsoleErrors)
                    .isInstanceOf(AssertionError.class)
                    .hasMessageContaining("the page broke: code 17");
        }
    }

    @Test
    void anUncaughtExceptionInAPageIsAConsoleError() {
        try (Browser browser = Browser.start()) {
            browser.open(url("/throws"));

            assertThatThrownBy(browser::assertNoConsoleErrors).hasMessageContaining("uncaught in the page");
        }
    }

    @Test
    void aPageThatLogsOnlyInformationPassesAndItsMessagesAreSeen() {
        try (Browser browser = Browser.start()) {
            browser.open(url("/quiet"));

            assertThat(browser.driver().findElement(By.id("done")).getText()).isEqualTo("quiet");
            browser.assertNoConsoleErrors();
            assertThat(browser.consoleMessages())
                    .extracting(LogEntry::getMessage)
                    .anySatisfy(m -> assertThat(m).contains("only information"));
        }
    }

    @Test
    void aScreenshotIsAPngFile() throws IOException {
        try (Browser browser = Browser.start()) {
            browser.open(url("/quiet"));

            Path png = browser.screenshot(dir.resolve("shots/quiet.png"));

            byte[] bytes = Files.readAllBytes(png);
            assertThat(bytes).startsWith(0x89, 'P', 'N', 'G');
        }
    }

    private static URI url(String path) {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + path);
    }

    private static String page(String body) {
        return "<!doctype html><html><head><meta charset=\"utf-8\">" + ICON + "<title>t</title></head><body>" + body
                + "</body></html>";
    }
}
