package io.sluice.ui;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.testing.HeldUpstream;
import io.sluice.testing.SluiceServerExtension;
import io.sluice.testing.SluiceServerExtension.Running;
import io.sluice.testing.TestHttp;
import java.io.File;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The admin UI in a real headless Chromium (Debian's {@code chromium} and {@code chromium-driver}):
 * an operator signs in, watches an upstream's live numbers, raises its concurrency cap, and sees
 * the queued requests go through at once. Screenshots land in {@code target/screenshots/}.
 */
class AdminUiTest {
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    private static final Path SCREENSHOTS = Path.of("target", "screenshots");
    private static final String TOKEN = "ui-test-token-9f2c";

    @RegisterExtension
    final SluiceServerExtension sluice = new SluiceServerExtension();

    @TempDir
    Path profile;

    private WebDriver driver;
    private WebDriverWait wait;

    @BeforeEach
    void startBrowser() {
        io.sluice.testing.RequiredTool.require(
                Files.isExecutable(CHROMIUM), "Chromium at " + CHROMIUM + " (Debian package chromium)");
        io.sluice.testing.RequiredTool.require(
                Files.isExecutable(CHROMEDRIVER),
                "chromedriver at " + CHROMEDRIVER + " (Debian package chromium-driver)");
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File(CHROMEDRIVER.toString()))
                .usingAnyFreePort()
                .build();
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toString());
        options.addArguments(
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-dev-shm-usage",
                "--user-data-dir=" + profile.toAbsolutePath(),
                "--window-size=1440,1000");
        driver = new ChromeDriver(service, options);
        wait = new WebDriverWait(driver, Duration.ofSeconds(30));
        // The recent-requests table is redrawn on every poll; a row may go stale between look and read.
        wait.ignoring(StaleElementReferenceException.class);
    }

    @AfterEach
    void stopBrowser() {
        if (driver != null) driver.quit();
    }

    @Test
    void operatorSignsInWatchesLiveNumbersAndRaisesAConcurrencyCapThatTakesEffect() throws Exception {
        try (HeldUpstream orders = new HeldUpstream();
                MockWebServer catalog = catalogServer()) {
            String catalogUrl = catalog.url("/").toString().replaceAll("/$", "");
            Running s = sluice.start("""
                    admin: {token: "%s"}
                    upstreams:
                      orders:
                        base_url: %s
                        allow_private: true
                        max_concurrency: 2
                        retry: {max_attempts: 1}
                      catalog:
                        base_url: %s
                        allow_private: true
                        limits: [{rate: 50/s, burst: 20}]
                        max_concurrency: 8
                        retry: {max_attempts: 1}
                    """.formatted(TOKEN, orders.baseUrl(), catalogUrl));

            driver.get(s.admin("/?interval=500").toString());
            wait.until(ExpectedConditions.textToBe(By.id("auth-status"), "Read-only"));
            WebElement ordersCard = wait.until(ExpectedConditions.presenceOfElementLocated(card("orders")));
            assertThat(ordersCard.findElement(By.cssSelector(".edit")).isDisplayed())
                    .as("no editing before signing in")
                    .isFalse();

            driver.findElement(By.id("token")).sendKeys("not-the-token");
            driver.findElement(By.id("login")).click();
            wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("notice"), "not accepted"));
            driver.findElement(By.id("token")).sendKeys(TOKEN);
            driver.findElement(By.id("login")).click();
            wait.until(ExpectedConditions.textToBe(By.id("auth-status"), "Signed in"));

            trafficAcrossPolls(s, 4);

            HttpClient client = HttpClient.newHttpClient();
            List<CompletableFuture<HttpResponse<String>>> held = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                held.add(client.sendAsync(
                        HttpRequest.newBuilder(s.data("/orders/order/" + i)).build(),
                        HttpResponse.BodyHandlers.ofString()));
            }
            wait.until(ExpectedConditions.textToBe(field("orders", "in_flight"), "2"));
            wait.until(ExpectedConditions.textToBe(field("orders", "queued"), "3"));
            assertThat(driver.findElement(field("orders", "in_flight_suffix")).getText())
                    .isEqualTo("/ 2");
            assertThat(orders.arrived()).isEqualTo(2);
            screenshot("01-queueing-at-the-cap");

            // A bad value is refused with the key named, and nothing changes.
            openEditor("orders");
            setField("max_concurrency", "0");
            driver.findElement(By.id("editor-save")).click();
            wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("editor-error"), "max_concurrency"));
            screenshot("02-validation-error");

            setField("max_concurrency", "5");
            screenshot("03-editing-max-concurrency");
            driver.findElement(By.id("editor-save")).click();
            wait.until(ExpectedConditions.invisibilityOfElementLocated(By.id("editor")));

            wait.until(ExpectedConditions.textToBe(field("orders", "in_flight"), "5"));
            wait.until(ExpectedConditions.textToBe(field("orders", "queued"), "0"));
            assertThat(orders.arrived())
                    .as("the raised cap let the queued requests through")
                    .isEqualTo(5);
            assertThat(driver.findElement(field("orders", "in_flight_suffix")).getText())
                    .isEqualTo("/ 5");
            assertThat(driver.findElement(card("orders"))
                            .findElement(By.cssSelector("[data-f=source]"))
                            .getText())
                    .isEqualTo("changed here");
            assertThat(TestHttp.get(s.admin("/api/upstreams/orders")).body()).contains("\"max_concurrency\":5");

            orders.release();
            for (var call : held) assertThat(call.get().statusCode()).isEqualTo(200);
            trafficAcrossPolls(s, 8);
            wait.until(d -> d.findElement(By.cssSelector("#recent tbody"))
                    .getText()
                    .lines()
                    .anyMatch(row -> row.contains("orders") && row.contains(" 200 ")));

            WebElement catalogCard = driver.findElement(card("catalog"));
            // Live numbers cover the last seconds; keep the catalog busy until the card shows it.
            WebElement catalogRate = catalogCard.findElement(By.cssSelector("[data-f=rate]"));
            wait.until(d -> {
                TestHttp.get(s.data("/catalog/items/live"));
                return !catalogRate.getText().equals("—") && Double.parseDouble(catalogRate.getText()) > 0;
            });
            assertThat(catalogCard.findElement(By.cssSelector("[data-f=p99]")).getText())
                    .endsWith("ms");
            assertThat(driver.findElement(By.id("chart-rate")).getAttribute("data-points"))
                    .as("the charts have history")
                    .isNotNull();
            assertThat(Integer.parseInt(driver.findElement(By.id("chart-rate")).getAttribute("data-points")))
                    .isGreaterThanOrEqualTo(8);

            driver.manage().window().setSize(new Dimension(1440, 1500));
            screenshot("04-dashboard");
        }
    }

    @Test
    void operatorFindsTheCaToHandToAppsAndTheOpenTunnels() throws Exception {
        // An intercepted tunnel to a loopback origin: nothing leaves the machine, and none is needed
        // for the tunnel to count as open (it waits for the client's TLS handshake).
        // And a tunnel-mode upstream whose origin is a bare loopback socket: the tunnel counts on its card.
        java.net.ServerSocket bytesOrigin = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
        Running s = sluice.start("""
                admin: {token: "%s"}
                upstreams:
                  local: {match: ["https://localhost:443"], allow_private: true}
                  piped: {match: ["https://localhost:%d"], allow_private: true, connect: tunnel}
                """.formatted(TOKEN, bytesOrigin.getLocalPort()));
        JsonNode tls = TestHttp.JSON.readTree(TestHttp.get(s.admin("/api/tls")).body());
        String fingerprint = tls.at("/ca/sha256").asText();
        assertThat(fingerprint).matches("([0-9A-F]{2}:){31}[0-9A-F]{2}");

        driver.get(s.admin("/?interval=500").toString());
        wait.until(ExpectedConditions.textToBe(By.id("ca-sha256"), fingerprint));
        assertThat(driver.findElement(By.id("tunnels-open")).getText()).isEqualTo("0");
        String href = driver.findElement(By.id("ca-download")).getAttribute("href");
        assertThat(TestHttp.get(java.net.URI.create(href)).body()).startsWith("-----BEGIN CERTIFICATE-----");

        try (java.net.Socket tunnel = new java.net.Socket("127.0.0.1", s.dataPort())) {
            tunnel.getOutputStream()
                    .write("CONNECT localhost:443 HTTP/1.1\r\nHost: localhost:443\r\n\r\n"
                            .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            wait.until(ExpectedConditions.textToBe(By.id("tunnels-open"), "1"));
            screenshot("05-https-panel");
        }
        try (bytesOrigin;
                java.net.Socket piped = new java.net.Socket("127.0.0.1", s.dataPort())) {
            piped.getOutputStream()
                    .write(("CONNECT localhost:" + bytesOrigin.getLocalPort() + " HTTP/1.1\r\nHost: localhost\r\n\r\n")
                            .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            // The operator sees, per upstream, requests intercepted and tunnels passed on in the last minute.
            wait.until(ExpectedConditions.textToBe(By.cssSelector("[data-upstream=piped] [data-f=https]"), "0 / 1"));
            assertThat(driver.findElement(By.cssSelector("[data-upstream=local] [data-f=https]"))
                            .getText())
                    .isEqualTo("0 / 0");
        }
    }

    @Test
    void operatorSeesTheLimitAnUpstreamAnnouncedOnItsCard() throws Exception {
        try (MockWebServer github = new MockWebServer()) {
            github.enqueue(new MockResponse.Builder()
                    .code(200)
                    .addHeader("X-RateLimit-Limit", "5000")
                    .addHeader("X-RateLimit-Remaining", "4999")
                    .addHeader(
                            "X-RateLimit-Reset",
                            Long.toString(
                                    java.time.Instant.now().plusSeconds(1800).getEpochSecond()))
                    .body("{}")
                    .build());
            github.start(java.net.InetAddress.getLoopbackAddress(), 0);
            Running s = sluice.start("""
                    admin: {token: "%s"}
                    upstreams:
                      gh: {base_url: "http://127.0.0.1:%d", allow_private: true, limits: learn}
                    """.formatted(TOKEN, github.getPort()));
            assertThat(TestHttp.get(s.data("/gh/user")).statusCode()).isEqualTo(200);

            driver.get(s.admin("/?interval=500").toString());
            wait.until(ExpectedConditions.textToBe(field("gh", "learned"), "learned 5000/1h from X-RateLimit-Limit"));
            assertThat(driver.findElement(field("gh", "policy")).getText()).startsWith("learned limits");
            screenshot("06-learned-limits");
        }
    }

    @Test
    void operatorSeesTheBusiestKeysOfAPerKeyBudgetByLabelOnly() throws Exception {
        String tokenA = "Bearer ghp_uiTenantAAAAsecret01";
        String tokenB = "Bearer ghp_uiTenantBBBBsecret02";
        try (MockWebServer github = new MockWebServer()) {
            github.setDispatcher(new Dispatcher() {
                @Override
                public MockResponse dispatch(RecordedRequest request) {
                    return new MockResponse.Builder().code(200).body("{}").build();
                }
            });
            github.start(java.net.InetAddress.getLoopbackAddress(), 0);
            Running s = sluice.start("""
                    admin: {token: "%s"}
                    upstreams:
                      gh:
                        base_url: "http://127.0.0.1:%d"
                        allow_private: true
                        key: header:Authorization
                        max_keys: 100
                        max_wait: 0s
                        retry: {max_attempts: 1}
                        limits: [{rate: 2/h, per: key}]
                    """.formatted(TOKEN, github.getPort()));
            for (String token : List.of(tokenA, tokenA, tokenA, tokenB)) {
                TestHttp.send(HttpRequest.newBuilder(s.data("/gh/user"))
                        .header("Authorization", token)
                        .build());
            }
            JsonNode busiest = TestHttp.JSON
                    .readTree(TestHttp.get(s.admin("/api/upstreams/gh")).body())
                    .path("live")
                    .path("keys")
                    .path("busiest");
            String labelA = busiest.get(0).path("label").asText();
            String labelB = busiest.get(1).path("label").asText();

            driver.get(s.admin("/?interval=500").toString());
            wait.until(ExpectedConditions.textToBe(field("gh", "keys_summary"), "keys: 2 of 100 live; busiest"));
            By rowA = By.cssSelector(".card[data-upstream='gh'] li[data-label='" + labelA + "']");
            By rowB = By.cssSelector(".card[data-upstream='gh'] li[data-label='" + labelB + "']");
            // The card is redrawn every 500 ms: each check finds its row again (a row found once can be
            // replaced before its text is read).
            assertThat(wait.until(ExpectedConditions.textToBe(rowA, labelA + " 3 req · 1 refused · 0 tokens left")))
                    .isTrue();
            assertThat(wait.until(ExpectedConditions.textToBe(rowB, labelB + " 1 req · 0 refused · 1 tokens left")))
                    .isTrue();
            String page = driver.getPageSource();
            for (String token : List.of(tokenA, tokenB)) {
                assertThat(page).doesNotContain(token.substring("Bearer ".length()));
            }
            screenshot("07-busiest-keys");
        }
    }

    @Test
    void editingAKeyedUpstreamChangesOnlyWhatTheFormShowsAndKeepsItsKeyAndKeyLimits() throws Exception {
        try (MockWebServer github = new MockWebServer()) {
            github.setDispatcher(new Dispatcher() {
                @Override
                public MockResponse dispatch(RecordedRequest request) {
                    return new MockResponse.Builder().code(200).body("{}").build();
                }
            });
            github.start(java.net.InetAddress.getLoopbackAddress(), 0);
            Running s = sluice.start("""
                    admin: {token: "%s"}
                    upstreams:
                      gh:
                        base_url: "http://127.0.0.1:%d"
                        allow_private: true
                        key: header:Authorization
                        cooldown: key
                        limits: [{rate: 2/h, per: key}, {rate: 100/h}]
                        key_limits: [{label: 3f9c0a71be42, limits: [{rate: 10/h}]}]
                    """.formatted(TOKEN, github.getPort()));

            driver.get(s.admin("/?interval=500").toString());
            driver.findElement(By.id("token")).sendKeys(TOKEN);
            driver.findElement(By.id("login")).click();
            wait.until(ExpectedConditions.textToBe(By.id("auth-status"), "Signed in"));
            wait.until(ExpectedConditions.textToBePresentInElementLocated(
                    field("gh", "policy"), "2/h (burst 2) per key + 100/h (burst 100) · 1 key with limits of its own"));
            openEditor("gh");
            List<WebElement> per = driver.findElements(By.cssSelector("#limits [name='per']"));
            assertThat(per).hasSize(2);
            assertThat(per.get(0).isSelected())
                    .as("the per-key limit shows as per key")
                    .isTrue();
            assertThat(per.get(1).isSelected()).isFalse();
            setField("max_wait", "5s");
            screenshot("08-editing-a-keyed-upstream");
            driver.findElement(By.id("editor-save")).click();
            wait.until(ExpectedConditions.invisibilityOfElementLocated(By.id("editor")));

            JsonNode config = TestHttp.JSON
                    .readTree(TestHttp.get(s.admin("/api/upstreams/gh")).body())
                    .path("config");
            assertThat(config.path("max_wait").asText()).isEqualTo("5s");
            assertThat(config.path("key").asText()).isEqualTo("header:Authorization");
            assertThat(config.path("cooldown").asText()).isEqualTo("key");
            assertThat(config.path("limits").get(0).path("per").asText()).isEqualTo("key");
            assertThat(config.path("limits").get(1).has("per")).isFalse();
            assertThat(config.path("key_limits").get(0).path("label").asText()).isEqualTo("3f9c0a71be42");
            assertThat(config.path("key_limits")
                            .get(0)
                            .path("limits")
                            .get(0)
                            .path("rate")
                            .asText())
                    .isEqualTo("10/h");
        }
    }

    @Test
    void operatorRaisesARateLimitAndTheNextRequestIsAdmitted() throws Exception {
        try (MockWebServer billing = new MockWebServer()) {
            billing.setDispatcher(new Dispatcher() {
                @Override
                public MockResponse dispatch(RecordedRequest request) {
                    return new MockResponse.Builder().code(200).body("paid").build();
                }
            });
            billing.start();
            Running s = sluice.start(
                    """
                    admin: {token: "%s"}
                    upstreams:
                      billing:
                        base_url: %s
                        allow_private: true
                        limits: [{rate: 1/h, burst: 1}]
                        max_wait: 0s
                        cache: {enabled: false}
                    """.formatted(TOKEN, billing.url("/").toString().replaceAll("/$", "")));
            assertThat(TestHttp.get(s.data("/billing/a")).statusCode()).isEqualTo(200);
            assertThat(TestHttp.get(s.data("/billing/b")).statusCode())
                    .as("one per hour: the second is refused at once")
                    .isEqualTo(429);

            driver.get(s.admin("/?interval=500").toString());
            driver.findElement(By.id("token")).sendKeys(TOKEN);
            driver.findElement(By.id("login")).click();
            wait.until(ExpectedConditions.textToBe(By.id("auth-status"), "Signed in"));
            wait.until(ExpectedConditions.textToBe(field("billing", "tokens"), "0"));

            openEditor("billing");
            setField("rate", "100/s");
            setField("burst", "100");
            setField("max_wait", "5s");
            screenshot("05-raising-a-rate-limit");
            driver.findElement(By.id("editor-save")).click();
            wait.until(ExpectedConditions.invisibilityOfElementLocated(By.id("editor")));

            assertThat(TestHttp.get(s.data("/billing/c")).statusCode())
                    .as("the new limit applies to the very next request")
                    .isEqualTo(200);
            assertThat(billing.getRequestCount()).isEqualTo(2);
            assertThat(TestHttp.get(s.admin("/api/upstreams/billing")).body()).contains("\"rate\":\"100/s\"");
        }
    }

    /** A fast upstream that refuses every fifth request with 429, for numbers worth charting. */
    private static MockWebServer catalogServer() throws IOException {
        MockWebServer server = new MockWebServer();
        AtomicInteger count = new AtomicInteger();
        server.setDispatcher(new Dispatcher() {
            @Override
            public MockResponse dispatch(RecordedRequest request) {
                if (count.incrementAndGet() % 5 == 0) {
                    return new MockResponse.Builder()
                            .code(429)
                            .body("slow down")
                            .build();
                }
                return new MockResponse.Builder()
                        .code(200)
                        .addHeader("Content-Type", "application/json")
                        .body("{\"sku\": " + count.get() + "}")
                        .build();
            }
        });
        server.start();
        return server;
    }

    /** Sends a few catalog requests after each of the next {@code polls} UI refreshes. */
    private void trafficAcrossPolls(Running s, int polls) {
        for (int i = 0; i < polls; i++) {
            int seen = polls();
            for (int r = 0; r < 3 + (i % 4); r++) TestHttp.get(s.data("/catalog/items/" + r));
            wait.until(d -> polls() > seen);
        }
    }

    private int polls() {
        String polls = driver.findElement(By.tagName("body")).getAttribute("data-polls");
        return polls == null ? 0 : Integer.parseInt(polls);
    }

    private void openEditor(String upstream) {
        driver.findElement(card(upstream)).findElement(By.cssSelector(".edit")).click();
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("editor")));
    }

    private void setField(String name, String value) {
        WebElement input = driver.findElement(By.cssSelector("#editor-form [name='" + name + "']"));
        input.clear();
        input.sendKeys(value);
    }

    private static By card(String upstream) {
        return By.cssSelector(".card[data-upstream='" + upstream + "']");
    }

    private static By field(String upstream, String key) {
        return By.cssSelector(".card[data-upstream='" + upstream + "'] [data-f='" + key + "']");
    }

    private void screenshot(String name) throws IOException {
        Files.createDirectories(SCREENSHOTS);
        File shot = ((TakesScreenshot) driver).getScreenshotAs(OutputType.FILE);
        Files.copy(shot.toPath(), SCREENSHOTS.resolve(name + ".png"), StandardCopyOption.REPLACE_EXISTING);
    }
}
