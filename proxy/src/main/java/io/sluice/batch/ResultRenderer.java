package io.sluice.batch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.fetch.ErrorType;
import io.sluice.fetch.FetchException;
import io.sluice.fetch.Fields;
import io.sluice.fetch.Interim;
import io.sluice.fetch.Trace;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** Turns one item's outcome into its JSON result object. */
final class ResultRenderer {
    private final ObjectMapper mapper;

    ResultRenderer(ObjectMapper mapper) {
        this.mapper = mapper;
    }

    ObjectNode response(
            BatchItem item,
            int status,
            Fields headers,
            List<Interim> interims,
            byte[] body,
            Trace trace,
            long elapsedNanos) {
        ObjectNode result = head(item);
        result.put("status", status);
        putHeaders(result.putObject("headers"), headers);
        if (!interims.isEmpty()) {
            // RFC 9110 §15.2 / RFC 8297: what the upstream said before its final answer (103 Early Hints).
            var array = result.putArray("interim");
            for (Interim interim : interims) {
                ObjectNode one = array.addObject().put("status", interim.status());
                putHeaders(one.putObject("headers"), interim.headers());
            }
        }
        encodeBody(result, headers.firstValue("content-type").orElse(""), body);
        tail(result, trace, elapsedNanos);
        return result;
    }

    /** Lower-case names in the order they came; a string, or a list of strings when repeated. */
    private static void putHeaders(ObjectNode h, Fields headers) {
        headers.forEach((name, values) -> {
            String key = name.toLowerCase(Locale.ROOT);
            if (values.size() == 1) {
                h.put(key, values.get(0));
            } else {
                var array = h.putArray(key);
                values.forEach(array::add);
            }
        });
    }

    ObjectNode error(BatchItem item, FetchException error, Trace trace, long elapsedNanos) {
        return error(item, error.type(), error.getMessage(), error.retryAfter(), trace, elapsedNanos);
    }

    ObjectNode error(
            BatchItem item,
            ErrorType type,
            String message,
            Optional<java.time.Duration> retryAfter,
            Trace trace,
            long elapsedNanos) {
        ObjectNode result = head(item);
        ObjectNode error =
                result.putObject("error").put("type", type.wireName()).put("message", message);
        retryAfter.ifPresent(after -> error.put("retry_after_ms", after.toMillis()));
        tail(result, trace, elapsedNanos);
        return result;
    }

    private ObjectNode head(BatchItem item) {
        ObjectNode result = mapper.createObjectNode();
        result.put("id", item.id());
        result.put("index", item.index());
        return result;
    }

    private static void tail(ObjectNode result, Trace trace, long elapsedNanos) {
        result.put("elapsed_ms", elapsedNanos / 1_000_000);
        if (trace == null) return;
        result.put("attempts", trace.attempts());
        result.put("cache", trace.cacheStatus());
        if (!trace.upstream().isEmpty()) result.put("upstream", trace.upstream());
        result.putObject("timing")
                .put("queue_ms", ms(trace.queueNanos()))
                .put("cooldown_ms", ms(trace.cooldownNanos()))
                .put("upstream_ms", ms(trace.upstreamNanos()))
                .put("cache_ms", ms(trace.cacheNanos()));
    }

    private static double ms(long nanos) {
        return Math.round(nanos / 1e4) / 100.0;
    }

    /** JSON bodies are parsed, text is decoded by its charset, anything else is base64. */
    private void encodeBody(ObjectNode result, String contentType, byte[] body) {
        String type = contentType.toLowerCase(Locale.ROOT);
        if (isJson(type) && body.length > 0) {
            try {
                JsonNode parsed = mapper.readTree(body);
                if (parsed != null) {
                    result.set("body", parsed);
                    result.put("body_encoding", "json");
                    return;
                }
            } catch (java.io.IOException e) {
                // Declared JSON but is not: fall through and show it as it is.
            }
        }
        if (body.length == 0 || isText(type) || isJson(type)) {
            Optional<String> text = decode(body, charset(type));
            if (text.isPresent()) {
                result.put("body", text.get());
                result.put("body_encoding", "text");
                return;
            }
        }
        result.put("body", Base64.getEncoder().encodeToString(body));
        result.put("body_encoding", "base64");
    }

    private static boolean isJson(String type) {
        return type.startsWith("application/json") || type.contains("+json");
    }

    private static boolean isText(String type) {
        return type.startsWith("text/")
                || type.contains("+xml")
                || type.startsWith("application/xml")
                || type.startsWith("application/javascript")
                || type.startsWith("application/x-www-form-urlencoded")
                || type.isEmpty();
    }

    private static Charset charset(String type) {
        for (String param : type.split(";")) {
            String p = param.trim();
            if (p.startsWith("charset=")) {
                try {
                    return Charset.forName(p.substring(8).replace("\"", ""));
                } catch (IllegalArgumentException e) {
                    return StandardCharsets.UTF_8;
                }
            }
        }
        return StandardCharsets.UTF_8;
    }

    private static Optional<String> decode(byte[] body, Charset charset) {
        try {
            return Optional.of(charset.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(body))
                    .toString());
        } catch (CharacterCodingException e) {
            return Optional.empty();
        }
    }
}
