package io.ragline.console.browser;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.logging.Level;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;

/**
 * A real headless Chromium (Debian's {@code chromium}) driven through its {@code chromedriver} by
 * Selenium, for the console's browser tests. Every message the pages write to the browser's console
 * is kept, so a test can require that a page logged no error; {@link #start()} skips the test, with
 * the reason, on a machine without the two programs ({@code ./ragline test} installs them).
 */
public final class Browser implements AutoCloseable {
    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    private static final Duration PAGE_LOAD_TIMEOUT = Duration.ofSeconds(30);

    private final ChromeDriver driver;
    private final Path userDataDir;
    private final List<LogEntry> console = new ArrayList<>();

    private Browser(ChromeDriver driver, Path userDataDir) {
        this.driver = driver;
        this.userDataDir = userDataDir;
    }

    /** Why no browser can run here, if it cannot: a missing program. */
    public static Optional<String> unavailable() {
        List<String> missing = Stream.of(CHROMIUM, CHROMEDRIVER)
                .filter(p -> !Files.isExecutable(p))
                .map(Path::toString)
                .toList();
        return missing.isEmpty()
                ? Optional.empty()
                : Optional.of("no " + String.join(" nor ", missing)
                        + ": the browser tests need Debian's chromium and chromium-driver"
                        + " (./ragline test installs them with apt-get)");
    }

    /** A fresh browser with a profile of its own; the calling test is skipped where none can run. */
    public static Browser start() {
        Optional<String> reason = unavailable();
        Assumptions.assumeTrue(reason.isEmpty(), reason.orElse(""));
        Path profile;
        try {
            profile = Files.createTempDirectory("ragline-chromium-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot make a profile directory for Chromium", e);
        }
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments(
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--window-size=1280,900",
                "--user-data-dir=" + profile);
        options.setCapability("goog:loggingPrefs", Map.of(LogType.BROWSER, "ALL"));
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort()
                .build();
        try {
            ChromeDriver driver = new ChromeDriver(service, options);
            driver.manage().timeouts().pageLoadTimeout(PAGE_LOAD_TIMEOUT);
            return new Browser(driver, profile);
        } catch (RuntimeException e) {
            deleteTree(profile);
            throw e;
        }
    }

    public ChromeDriver driver() {
        return driver;
    }

    public void open(URI page) {
        driver.get(page.toString());
    }

    /** Every console message of every page since the start, oldest first. */
    public List<LogEntry> consoleMessages() {
        driver.manage().logs().get(LogType.BROWSER).forEach(console::add);
        return List.copyOf(console);
    }

    /** Forgets the messages so far (an expected 401 before signing in, say). */
    public void forgetConsoleMessages() {
        consoleMessages();
        console.clear();
    }

    /** The console messages at level SEVERE: {@code console.error}, uncaught errors, failed loads. */
    public List<String> consoleErrors() {
        return consoleMessages().stream()
                .filter(e -> e.getLevel().intValue() >= Level.SEVERE.intValue())
                .map(LogEntry::getMessage)
                .toList();
    }

    public void assertNoConsoleErrors() {
        assertThat(consoleErrors())
                .as("errors in the browser's console (%s)", driver.getCurrentUrl())
                .isEmpty();
    }

    /** A PNG of the window as it is now, written to {@code file} (its directory made). */
    public Path screenshot(Path file) {
        try {
            Path dir = file.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            return Files.write(file, driver.getScreenshotAs(OutputType.BYTES));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the screenshot " + file, e);
        }
    }

    @Override
    public void close() {
        try {
            driver.quit();
        } finally {
            deleteTree(userDataDir);
        }
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a leftover temporary profile is harmless
        }
    }
}
