/* ApiVersions: asks the broker for its API version ranges with a raw
 * ApiVersions v0 request (the form every broker answers), so tests can check
 * them against the ranges the Java client itself supports (ApiKeys), and skip
 * with a precise reason when the broker lacks an API. */
package io.samsa.eco;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;

final class ApiVersions {
    private ApiVersions() {}

    /** API key -> {min, max} as the broker advertises them. */
    static Map<Integer, short[]> query() throws IOException {
        String[] hp = SamsaBroker.bootstrap().split(":");
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(hp[0], Integer.parseInt(hp[1])), 5000);
            s.setSoTimeout(5000);
            byte[] client = "samsa-java-eco".getBytes(StandardCharsets.UTF_8);
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            out.writeInt(2 + 2 + 4 + 2 + client.length);
            out.writeShort(18); // ApiVersions
            out.writeShort(0);
            out.writeInt(7); // correlation id
            out.writeShort(client.length);
            out.write(client);
            out.flush();
            DataInputStream in = new DataInputStream(s.getInputStream());
            int size = in.readInt();
            if (size < 10 || size > 1 << 20)
                throw new IOException("bad ApiVersions response size " + size);
            if (in.readInt() != 7)
                throw new IOException("ApiVersions: wrong correlation id");
            short err = in.readShort();
            if (err != 0)
                throw new IOException("ApiVersions error " + err);
            int n = in.readInt();
            if (n < 0 || n * 6 > size)
                throw new IOException("bad ApiVersions count " + n);
            Map<Integer, short[]> m = new TreeMap<>();
            for (int i = 0; i < n; i++) {
                int key = in.readShort();
                m.put(key, new short[] {in.readShort(), in.readShort()});
            }
            return m;
        }
    }

    static boolean has(int apiKey) {
        try {
            return query().containsKey(apiKey);
        } catch (IOException e) {
            throw new IllegalStateException("ApiVersions probe failed", e);
        }
    }
}
