package io.sluice.batch;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.config.Priority;
import io.sluice.fetch.CacheMode;
import io.sluice.fetch.FetchRequest;
import io.sluice.fetch.Fields;
import io.sluice.fetch.RequestBody;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Reads a batch document. The top level is read with a streaming parser and each item as its own
 * small tree, so a 100,000-item batch never exists as one large tree. A problem with the document
 * itself is a {@link BadBatch} (the whole batch gets 400); a problem with one item makes that item
 * fail alone. Every message names the field: {@code requests[3].url: unsupported scheme "file"}.
 */
final class BatchParser {
    static final int DEFAULT_CONCURRENCY = 50;
    private static final Pattern TOKEN = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");

    private final ObjectMapper mapper;
    private final int maxItems;
    private final long maxHeaderBytes;
    private final long maxBodyBytes;

    /**
     * @param maxDocumentBytes {@code server.max_batch_bytes}: also Jackson's longest string, so a
     *     string body is bounded by the documented limits, not by Jackson's own default (20 MB)
     * @param maxHeaderBytes {@code server.max_header_size}: an item's URL, and its header block, as
     *     for a passthrough request
     * @param maxBodyBytes {@code server.max_request_body}: an item's body, as for a passthrough request
     */
    BatchParser(ObjectMapper mapper, int maxItems, long maxDocumentBytes, long maxHeaderBytes, long maxBodyBytes) {
        var constraints = StreamReadConstraints.builder()
                .maxStringLength((int) Math.min(Integer.MAX_VALUE, maxDocumentBytes))
                .build();
        this.mapper = mapper.copyWith(
                mapper.getFactory().rebuild().streamReadConstraints(constraints).build());
        this.maxItems = maxItems;
        this.maxHeaderBytes = maxHeaderBytes;
        this.maxBodyBytes = maxBodyBytes;
    }

    /** The whole batch could not be read; answered with 400. */
    static final class BadBatch extends Exception {
        BadBatch(String message) {
            super(message, null, false, false);
        }
    }

    record Batch(List<BatchItem> items, Optional<Duration> timeout, int concurrency) {}

    Batch parse(byte[] document) throws BadBatch {
        List<BatchItem> items = null;
        Optional<Duration> timeout = Optional.empty();
        int concurrency = DEFAULT_CONCURRENCY;
        Optional<Priority> priority = Optional.empty();
        try (JsonParser parser = mapper.getFactory().createParser(document)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                throw new BadBatch("the body must be a JSON object with a \"requests\" array");
            }
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String field = parser.currentName();
                JsonToken value = parser.nextToken();
                switch (field) {
                    case "requests" -> {
                        if (value != JsonToken.START_ARRAY) throw new BadBatch("requests: expected an array");
                        items = new ArrayList<>();
                        while (parser.nextToken() != JsonToken.END_ARRAY) {
                            if (items.size() >= maxItems) {
                                throw new BadBatch(
                                        "requests: more than " + maxItems + " items (server.max_batch_items)");
                            }
                            JsonNode item = mapper.readTree(parser);
                            items.add(item(items.size(), item));
                        }
                    }
                    case "timeout_ms" -> timeout = Optional.of(Duration.ofMillis(positive("timeout_ms", parser)));
                    case "concurrency" ->
                        concurrency = (int) Math.min(Integer.MAX_VALUE, positive("concurrency", parser));
                    case "priority" -> {
                        if (value != JsonToken.VALUE_STRING) {
                            throw new BadBatch("priority: expected \"interactive\", \"batch\" or \"background\"");
                        }
                        try {
                            priority = Optional.of(Priority.parse(parser.getText()));
                        } catch (IllegalArgumentException e) {
                            throw new BadBatch("priority: " + e.getMessage());
                        }
                    }
                    default ->
                        throw new BadBatch(
                                field + ": unknown field (expected requests, timeout_ms, concurrency, priority)");
                }
            }
            if (parser.nextToken() != null) throw new BadBatch("unexpected content after the JSON object");
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            var at = e.getLocation();
            throw new BadBatch(
                    "invalid JSON" + (at == null ? "" : " at line " + at.getLineNr() + " column " + at.getColumnNr())
                            + ": " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new BadBatch("cannot read the batch: " + e.getMessage());
        }
        if (items == null) throw new BadBatch("requests: required (an array of request objects)");
        if (priority.isPresent()) {
            // The batch's class for every item that names none; the field may come after the items.
            Optional<Priority> batchClass = priority;
            items.replaceAll(item -> item.request()
                    .filter(r -> r.priority().isEmpty())
                    .map(r -> BatchItem.valid(
                            item.index(),
                            item.id(),
                            r.toBuilder().priority(batchClass).build()))
                    .orElse(item));
        }
        return new Batch(items, timeout, concurrency);
    }

    private static long positive(String field, JsonParser parser) throws IOException, BadBatch {
        if (!parser.currentToken().isNumeric()
                || parser.getNumberType() == JsonParser.NumberType.BIG_INTEGER
                || parser.getValueAsLong() <= 0) {
            throw new BadBatch(field + ": expected a positive whole number, got " + parser.getText());
        }
        return parser.getValueAsLong();
    }

    private BatchItem item(int index, JsonNode node) {
        String where = "requests[" + index + "]";
        String id = Integer.toString(index);
        JsonNode idNode = node != null && node.isObject() ? node.get("id") : null;
        if (idNode != null && (idNode.isTextual() || idNode.isNumber())) id = idNode.asText();
        try {
            if (idNode != null && !idNode.isTextual() && !idNode.isNumber()) {
                throw new InvalidItem(where + ".id", "must be a string or a number");
            }
            return BatchItem.valid(index, id, request(where, node));
        } catch (InvalidItem e) {
            return BatchItem.invalid(index, id, e.getMessage());
        }
    }

    private static final class InvalidItem extends Exception {
        InvalidItem(String where, String problem) {
            super(where + ": " + problem, null, false, false);
        }
    }

    private FetchRequest request(String where, JsonNode node) throws InvalidItem {
        if (node == null || !node.isObject()) throw new InvalidItem(where, "expected an object");
        for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!List.of(
                            "id",
                            "method",
                            "url",
                            "headers",
                            "body",
                            "body_base64",
                            "timeout_ms",
                            "max_wait_ms",
                            "cache",
                            "follow_redirects",
                            "priority")
                    .contains(name)) {
                throw new InvalidItem(where + "." + name, "unknown field");
            }
        }
        String method = "GET";
        if (node.has("method")) {
            JsonNode m = node.get("method");
            if (!m.isTextual() || !TOKEN.matcher(m.asText()).matches()) {
                throw new InvalidItem(where + ".method", "invalid method " + m);
            }
            method = m.asText().toUpperCase(Locale.ROOT);
        }
        JsonNode urlNode = node.get("url");
        if (urlNode == null || !urlNode.isTextual()) throw new InvalidItem(where + ".url", "required (a string)");
        long urlBytes = utf8Length(urlNode.asText());
        if (urlBytes > maxHeaderBytes) {
            throw new InvalidItem(
                    where + ".url",
                    "URL of " + urlBytes + " bytes exceeds " + maxHeaderBytes + " (server.max_header_size)");
        }
        URI uri = url(where + ".url", urlNode.asText());

        Map<String, List<String>> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        JsonNode headersNode = node.get("headers");
        if (headersNode != null && !headersNode.isNull()) {
            if (!headersNode.isObject()) throw new InvalidItem(where + ".headers", "expected an object");
            for (Iterator<Map.Entry<String, JsonNode>> it = headersNode.fields(); it.hasNext(); ) {
                var e = it.next();
                String h = where + ".headers." + e.getKey();
                if (!TOKEN.matcher(e.getKey()).matches()) throw new InvalidItem(h, "invalid header name");
                List<String> values = new ArrayList<>();
                if (e.getValue().isArray()) {
                    for (JsonNode v : e.getValue()) values.add(headerValue(h, v));
                } else {
                    values.add(headerValue(h, e.getValue()));
                }
                headers.put(e.getKey(), values);
            }
            // As a passthrough request's head is bounded by Undertow: each field as "name: value\r\n".
            long headerBytes = 0;
            for (var e : headers.entrySet()) {
                for (String v : e.getValue()) headerBytes += utf8Length(e.getKey()) + 4 + utf8Length(v);
            }
            if (headerBytes > maxHeaderBytes) {
                throw new InvalidItem(
                        where + ".headers",
                        headerBytes + " bytes of header fields exceed " + maxHeaderBytes + " (server.max_header_size)");
            }
        }

        RequestBody body = RequestBody.empty();
        if (node.has("body") && node.has("body_base64")) {
            throw new InvalidItem(where, "body and body_base64 are exclusive");
        }
        JsonNode bodyNode = node.get("body");
        if (bodyNode != null && !bodyNode.isNull()) {
            if (bodyNode.isTextual()) {
                body = RequestBody.of(bodyNode.asText().getBytes(StandardCharsets.UTF_8));
            } else {
                try {
                    body = RequestBody.of(mapper.writeValueAsBytes(bodyNode));
                } catch (IOException e) {
                    throw new InvalidItem(where + ".body", "cannot encode: " + e.getMessage());
                }
                headers.putIfAbsent("Content-Type", List.of("application/json"));
            }
        }
        JsonNode b64 = node.get("body_base64");
        if (b64 != null && !b64.isNull()) {
            if (!b64.isTextual()) throw new InvalidItem(where + ".body_base64", "expected a base64 string");
            // Checked before decoding: base64 holds 3 bytes per 4 characters.
            checkBody(where + ".body_base64", b64.asText().length() / 4 * 3L);
            try {
                body = RequestBody.of(Base64.getDecoder().decode(b64.asText()));
            } catch (IllegalArgumentException e) {
                throw new InvalidItem(where + ".body_base64", "invalid base64: " + e.getMessage());
            }
        }
        if (bodyNode != null && !bodyNode.isNull()) checkBody(where + ".body", body.length());

        Optional<Duration> timeout = millis(where + ".timeout_ms", node.get("timeout_ms"));
        Optional<Duration> maxWait = millis(where + ".max_wait_ms", node.get("max_wait_ms"));
        CacheMode cache = CacheMode.DEFAULT;
        JsonNode cacheNode = node.get("cache");
        if (cacheNode != null && !cacheNode.isNull()) {
            cache = switch (cacheNode.asText()) {
                case "default" -> CacheMode.DEFAULT;
                case "bypass", "no-store" -> CacheMode.BYPASS;
                case "no-cache", "revalidate" -> CacheMode.REVALIDATE;
                case "only-if-cached" -> CacheMode.ONLY_IF_CACHED;
                default ->
                    throw new InvalidItem(
                            where + ".cache",
                            "expected \"default\", \"bypass\", \"no-cache\" or \"only-if-cached\", got " + cacheNode);
            };
        }
        boolean follow = false;
        JsonNode followNode = node.get("follow_redirects");
        if (followNode != null && !followNode.isNull()) {
            if (!followNode.isBoolean()) throw new InvalidItem(where + ".follow_redirects", "expected true or false");
            follow = followNode.booleanValue();
        }
        Optional<Priority> priority = Optional.empty();
        JsonNode priorityNode = node.get("priority");
        if (priorityNode != null && !priorityNode.isNull()) {
            if (!priorityNode.isTextual()) {
                throw new InvalidItem(where + ".priority", "expected \"interactive\", \"batch\" or \"background\"");
            }
            try {
                priority = Optional.of(Priority.parse(priorityNode.asText()));
            } catch (IllegalArgumentException e) {
                throw new InvalidItem(where + ".priority", e.getMessage());
            }
        }
        return FetchRequest.builder(method, uri)
                .headers(Fields.of(headers))
                .body(body)
                .timeout(timeout)
                .maxWait(maxWait)
                .cache(cache)
                .followRedirects(follow)
                .priority(priority)
                .batchItem(true)
                .build();
    }

    private void checkBody(String where, long bytes) throws InvalidItem {
        if (bytes > maxBodyBytes) {
            throw new InvalidItem(
                    where, "body of " + bytes + " bytes exceeds " + maxBodyBytes + " (server.max_request_body)");
        }
    }

    private static long utf8Length(String s) {
        long n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) n++;
            else if (c < 0x800) n += 2;
            else if (Character.isHighSurrogate(c)) {
                n += 4;
                i++;
            } else n += 3;
        }
        return n;
    }

    /**
     * A JSON string: a number or boolean would be sent as its text, which the client may not mean.
     * Each character is one byte of the value as sent, ISO-8859-1 (U+0000 to U+00FF), the way
     * results show a response's field values: so {@code "caf\u00e9"} is sent as the obs-text byte
     * {@code 0xE9}, and a value read from one result is sent back unchanged. A character beyond
     * U+00FF has no such byte and is refused rather than mangled (percent-encode it, or use RFC 8187's
     * {@code UTF-8''} form where the field allows it); so are the control characters RFC 9110 §5.5
     * keeps out of field values (CR, LF and NUL above all; horizontal tab is allowed).
     */
    private static String headerValue(String where, JsonNode value) throws InvalidItem {
        if (!value.isTextual()) throw new InvalidItem(where, "must be a string");
        String text = value.asText();
        if (text.indexOf('\r') >= 0 || text.indexOf('\n') >= 0)
            throw new InvalidItem(where, "line breaks are not allowed");
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if ((c < 0x20 && c != '\t') || c == 0x7f) {
                throw new InvalidItem(
                        where, "control character U+%04X is not allowed (RFC 9110 §5.5)".formatted((int) c));
            }
            if (c > 0xff) {
                throw new InvalidItem(
                        where,
                        ("character U+%04X is beyond ISO-8859-1: each character of a header value is one byte"
                                        + " (U+0000-U+00FF); percent-encode it or use RFC 8187's UTF-8'' form")
                                .formatted(text.codePointAt(i)));
            }
        }
        return text;
    }

    private static Optional<Duration> millis(String where, JsonNode value) throws InvalidItem {
        if (value == null || value.isNull()) return Optional.empty();
        if (!value.canConvertToLong() || !value.isIntegralNumber() || value.asLong() < 0) {
            throw new InvalidItem(where, "expected a whole number of milliseconds, got " + value);
        }
        return Optional.of(Duration.ofMillis(value.asLong()));
    }

    private static URI url(String where, String text) throws InvalidItem {
        URI uri;
        try {
            uri = new URI(text);
        } catch (URISyntaxException e) {
            throw new InvalidItem(where, "invalid URL \"" + text + "\": " + e.getReason());
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new InvalidItem(where, "unsupported scheme \"" + scheme + "\" (http or https)");
        }
        if (uri.getHost() == null || uri.getHost().isEmpty())
            throw new InvalidItem(where, "missing host in \"" + text + "\"");
        return uri;
    }
}
