package io.ragline.console.browser;

import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;

/**
 * The web console as a test sees it: pages opened by their address ({@code #/collections}), rows
 * found by their {@code data-id}, row actions by their {@code data-action}, the confirmation dialog,
 * and the notice and problem lines. Waits with Awaitility for what the page shows, never sleeps.
 */
public final class ConsolePage {
    /** Where screenshots of the main pages go when set (docs/images, by hand); none in a normal run. */
    public static final String SCREENSHOTS = "ragline.screenshots";

    private static final Duration WAIT = Duration.ofSeconds(30);

    private final Browser browser;
    private final URI base;

    public ConsolePage(Browser browser, URI base) {
        this.browser = browser;
        this.base = base;
    }

    public Browser browser() {
        return browser;
    }

    /** Opens {@code #/route} and waits until its page has rendered. */
    public ConsolePage open(String route) {
        browser.open(base.resolve("/#/" + route));
        awaitLoaded(route.split("[/?]")[0]);
        return this;
    }

    /** Opens the console with no token in this tab: the API's 401 brings up the sign-in box. */
    public ConsolePage openSignedOut(String route) {
        browser.open(base.resolve("/#/" + route));
        await().atMost(WAIT).ignoreExceptions().until(() -> element(By.id("login")), WebElement::isDisplayed);
        return this;
    }

    /** Signs in with {@code token} in the sign-in box, then waits for the page to render. */
    public ConsolePage signIn(String token, String page) {
        WebElement field = await().atMost(WAIT)
                .ignoreExceptions()
                .until(() -> element(By.id("login-token")), WebElement::isDisplayed);
        field.sendKeys(token);
        element(By.id("login-submit")).click();
        awaitLoaded(page);
        return this;
    }

    /** Waits until the page named {@code page} (overview, collections, ...) has rendered. */
    public void awaitLoaded(String page) {
        await().atMost(WAIT)
                .ignoreExceptions()
                .until(() -> page.equals(element(By.id("main")).getAttribute("data-loaded")));
    }

    public WebElement element(By by) {
        return browser.driver().findElement(by);
    }

    public List<WebElement> elements(By by) {
        return browser.driver().findElements(by);
    }

    /** The table row of the shown page whose data-id is {@code id}, once it is there. */
    public WebElement row(Object id) {
        By by = By.cssSelector("#main tr[data-id=\"" + cssString(String.valueOf(id)) + "\"]");
        return await().atMost(WAIT).ignoreExceptions().until(() -> element(by), e -> e.isDisplayed());
    }

    public Optional<WebElement> rowIfShown(Object id) {
        return elements(By.cssSelector("#main tr[data-id=\"" + cssString(String.valueOf(id)) + "\"]")).stream()
                .findFirst();
    }

    /** Clicks the row's button of {@code action} (replay, redrive, cancel, delete ...). */
    public void clickAction(Object rowId, String action) {
        row(rowId)
                .findElement(By.cssSelector("button[data-action=\"" + action + "\"]"))
                .click();
    }

    /** Clicks the page's button of {@code action} outside any table (a detail page's). */
    public void clickPageAction(String action) {
        element(By.cssSelector("#main .actions button[data-action=\"" + action + "\"]"))
                .click();
    }

    /** Confirms the open confirmation dialog, returning the question it asked. */
    public String confirm() {
        WebElement dialog = await().atMost(WAIT)
                .ignoreExceptions()
                .until(() -> element(By.id("confirm")), d -> d.getAttribute("open") != null);
        String question = dialog.findElement(By.id("confirm-message")).getText();
        dialog.findElement(By.id("confirm-ok")).click();
        return question;
    }

    /** Types into the named fields of the form {@code formId} (replacing what they held), then submits it. */
    public void submit(String formId, Map<String, String> fields) {
        WebElement form = element(By.id(formId));
        fields.forEach((name, value) -> {
            WebElement input = form.findElement(By.name(name));
            input.clear();
            input.sendKeys(value);
        });
        form.findElement(By.cssSelector("button[type=submit]")).click();
    }

    /** The notice an action left, once there is one and the page shows the data after the action. */
    public String awaitNotice() {
        String notice = await().atMost(WAIT)
                .ignoreExceptions()
                .until(() -> element(By.id("notice")), WebElement::isDisplayed)
                .getText();
        await().atMost(WAIT)
                .ignoreExceptions()
                .until(() -> !element(By.id("main")).getAttribute("data-loaded").isEmpty());
        return notice;
    }

    /** The problem shown (title and detail), once there is one. */
    public String awaitProblem() {
        return await().atMost(WAIT)
                .ignoreExceptions()
                .until(() -> element(By.id("problem")), WebElement::isDisplayed)
                .getText();
    }

    /** Saves a screenshot as {@code console-<name>.png} when {@value #SCREENSHOTS} names a directory. */
    public void screenshotIfAsked(String name) {
        String dir = System.getProperty(SCREENSHOTS, "");
        if (!dir.isBlank()) {
            browser.screenshot(Path.of(dir, "console-" + name + ".png"));
        }
    }

    private static String cssString(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"");
    }
}
