/* SamsaBroker: the one Samsa broker the whole run shares, as a JUnit
 * extension.  The first test that uses it starts $SAMSA_BROKER
 * (default ../../../build/samsa-broker) on the first free port of
 * [SAMSA_ECO_PORT_BASE, +100) (default 26500), with a temporary log dir and
 * --override settings; BrokerShutdownTest, ordered last, stops it by PID
 * (SIGTERM) and fails unless it exits 0.  If that test did not run (a
 * filtered run), the JUnit root store closes it at the end instead.
 * Broker output goes to <tmpdir>/broker.log, printed when start or stop fails.
 * It starts before each test (not before all of a class) so that a broker
 * that cannot start fails every test as such, and CompatRecorder records
 * them as failed; a failed start is remembered and not retried. */
package io.samsa.eco;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

public final class SamsaBroker implements BeforeEachCallback {
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(SamsaBroker.class);
    private static volatile Instance current;
    private static volatile RuntimeException startFailure;

    /** Settings every run uses: fast first rebalance, a small offsets topic, one replica. */
    private static final String[] OVERRIDES = {
        "group.initial.rebalance.delay.ms=0",
        "offsets.topic.num.partitions=4",
        "offsets.topic.replication.factor=1",
        "transaction.state.log.replication.factor=1",
        "transaction.state.log.min.isr=1",
        "num.partitions=1",
    };

    /** SAMSA_ECO_BOOTSTRAP=host:port: use that running broker instead of starting one (to
     *  check a test against Apache Kafka; tests that stop the broker do not apply). */
    private static final String EXTERNAL = System.getenv("SAMSA_ECO_BOOTSTRAP");

    @Override
    public void beforeEach(ExtensionContext ctx) {
        if (EXTERNAL != null && !EXTERNAL.isEmpty())
            return;
        if (startFailure != null)
            throw startFailure;
        try {
            current = ctx.getRoot().getStore(NS).getOrComputeIfAbsent(Instance.class, k -> Instance.start(),
                                                                     Instance.class);
        } catch (RuntimeException e) {
            startFailure = e;
            throw e;
        }
    }

    /** host:port of the running broker. */
    public static String bootstrap() {
        if (EXTERNAL != null && !EXTERNAL.isEmpty())
            return EXTERNAL;
        Instance i = current;
        if (i == null)
            throw new IllegalStateException("no broker: the test class lacks @ExtendWith(SamsaBroker.class)");
        return "127.0.0.1:" + i.port;
    }

    public static int nodeId() {
        return 0;
    }

    /** Stops the broker now; returns its exit code (-1: it had to be killed). */
    public static int stop() {
        Instance i = current;
        if (i == null)
            throw new IllegalStateException("no broker was started");
        return i.stopAndWait();
    }

    public static String logTail() {
        Instance i = current;
        return i == null ? "" : i.logTail();
    }

    static final class Instance implements AutoCloseable {
        final Process process;
        final int port;
        final Path dir;
        private Integer exit;

        private Instance(Process process, int port, Path dir) {
            this.process = process;
            this.port = port;
            this.dir = dir;
        }

        static Instance start() {
            String bin = System.getenv("SAMSA_BROKER");
            if (bin == null || bin.isEmpty())
                bin = Path.of("../../../build/samsa-broker").toAbsolutePath().normalize().toString();
            if (!Files.isExecutable(Path.of(bin)))
                throw new IllegalStateException("no broker binary at " + bin + " (set SAMSA_BROKER)");
            int base = Integer.parseInt(System.getenv().getOrDefault("SAMSA_ECO_PORT_BASE", "26500"));
            // A free port can be taken between our probe and the broker's bind:
            // then the broker exits at once and the next free port is tried.
            int from = base;
            for (int attempt = 0; attempt < 5; attempt++) {
                int port = freePort(from, base + 100);
                Instance i = launch(bin, port);
                if (i != null)
                    return i;
                from = port + 1;
            }
            throw new IllegalStateException("the broker did not start on any port of [" + base + ", " + (base + 100) + ")");
        }

        private static int freePort(int from, int to) {
            for (int p = from; p < to; p++) {
                try (ServerSocket s = new ServerSocket()) {
                    s.setReuseAddress(true);
                    s.bind(new InetSocketAddress("127.0.0.1", p));
                    return p;
                } catch (IOException e) {
                    // taken: try the next one
                }
            }
            throw new IllegalStateException("no free port in [" + from + ", " + to + ")");
        }

        private static Instance launch(String bin, int port) {
            try {
                Path dir = Files.createTempDirectory("samsa-java-eco-");
                List<String> cmd = new ArrayList<>(List.of(bin,
                    "--override", "listeners=PLAINTEXT://127.0.0.1:" + port,
                    "--override", "log.dirs=" + dir.resolve("data")));
                for (String o : OVERRIDES) {
                    cmd.add("--override");
                    cmd.add(o);
                }
                Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(dir.resolve("broker.log").toFile()).start();
                Instance i = new Instance(p, port, dir);
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
                while (System.nanoTime() < deadline) {
                    if (!p.isAlive()) {
                        System.err.println("samsa-broker exited at start (" + p.exitValue() + ") on port " + port
                                           + ":\n" + i.logTail());
                        return null;
                    }
                    try (Socket s = new Socket()) {
                        s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                        return i;
                    } catch (IOException e) {
                        Thread.sleep(20); // polling for the listener, bounded by the deadline
                    }
                }
                p.destroyForcibly();
                throw new IllegalStateException("samsa-broker did not listen on " + port + " within 15 s:\n" + i.logTail());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }

        synchronized int stopAndWait() {
            if (exit != null)
                return exit;
            process.destroy(); // SIGTERM to this PID
            try {
                if (process.waitFor(30, TimeUnit.SECONDS)) {
                    exit = process.exitValue();
                } else {
                    process.destroyForcibly().waitFor();
                    exit = -1;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
                exit = -1;
            }
            if (exit == 0)
                deleteTree(dir);
            else
                System.err.println("samsa-broker exit " + exit + "; its files stay in " + dir + "\n" + logTail());
            return exit;
        }

        String logTail() {
            try {
                List<String> lines = Files.readAllLines(dir.resolve("broker.log"));
                return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
            } catch (IOException e) {
                return "(no broker log: " + e.getMessage() + ")";
            }
        }

        @Override
        public void close() {
            int rc = stopAndWait();
            if (rc != 0)
                throw new IllegalStateException("samsa-broker exited with " + rc);
        }

        private static void deleteTree(Path root) {
            try (Stream<Path> s = Files.walk(root)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException e) {
                System.err.println("cannot remove " + root + ": " + e.getMessage());
            }
        }
    }
}
