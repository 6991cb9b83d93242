/* CompatRecorder: a JUnit TestWatcher that turns each @Feature test's outcome
 * into JSON lines of the compatibility matrix, appended to
 * $SAMSA_COMPAT_DIR/java.jsonl (target/compat/java.jsonl without it):
 *   {"client", "lang": "Java", "version", "feature", "result", "test", "reason"}
 * The version is the client library's own (AppInfoParser), read at run time.
 * Passing = pass, failed = fail (reason: the assertion or exception), aborted
 * by an assumption or disabled = skip (reason: the assumption's message). */
package io.samsa.eco;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

import org.apache.kafka.common.utils.internals.AppInfoParser;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;

public final class CompatRecorder implements TestWatcher {
    private static final Object LOCK = new Object();

    @Override
    public void testSuccessful(ExtensionContext ctx) {
        record(ctx, "pass", null);
    }

    @Override
    public void testFailed(ExtensionContext ctx, Throwable cause) {
        record(ctx, "fail", describe(cause));
    }

    @Override
    public void testAborted(ExtensionContext ctx, Throwable cause) {
        String m = cause == null || cause.getMessage() == null ? "aborted" : cause.getMessage();
        record(ctx, "skip", m.replaceFirst("^Assumption failed: ", ""));
    }

    @Override
    public void testDisabled(ExtensionContext ctx, Optional<String> reason) {
        record(ctx, "skip", reason.orElse("disabled"));
    }

    private static String describe(Throwable t) {
        if (t == null)
            return "";
        String m = t.getMessage();
        String s = t.getClass().getSimpleName() + (m == null ? "" : ": " + m);
        s = s.replaceAll("\\s+", " ").trim();
        return s.length() > 400 ? s.substring(0, 400) + "..." : s;
    }

    private static void record(ExtensionContext ctx, String result, String reason) {
        Feature f = ctx.getRequiredTestMethod().getAnnotation(Feature.class);
        if (f == null)
            return;
        String test = ctx.getRequiredTestClass().getSimpleName() + "." + ctx.getRequiredTestMethod().getName();
        StringBuilder out = new StringBuilder();
        for (String feature : f.value()) {
            out.append("{\"client\": ").append(json(f.client()))
               .append(", \"lang\": \"Java\", \"version\": ").append(json(AppInfoParser.getVersion()))
               .append(", \"feature\": ").append(json(feature))
               .append(", \"result\": ").append(json(result))
               .append(", \"test\": ").append(json(test));
            if (reason != null)
                out.append(", \"reason\": ").append(json(reason));
            out.append("}\n");
        }
        String dir = System.getenv("SAMSA_COMPAT_DIR");
        Path file = Path.of(dir == null || dir.isEmpty() ? "target/compat" : dir, "java.jsonl");
        synchronized (LOCK) {
            try {
                Files.createDirectories(file.getParent());
                Files.writeString(file, out, StandardCharsets.UTF_8,
                                  StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            } catch (IOException e) {
                throw new IllegalStateException("cannot write " + file, e);
            }
        }
    }

    static String json(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
            case '"': b.append("\\\""); break;
            case '\\': b.append("\\\\"); break;
            case '\n': b.append("\\n"); break;
            case '\r': b.append("\\r"); break;
            case '\t': b.append("\\t"); break;
            default:
                if (c < 0x20)
                    b.append(String.format("\\u%04x", (int) c));
                else
                    b.append(c);
            }
        }
        return b.append('"').toString();
    }
}
