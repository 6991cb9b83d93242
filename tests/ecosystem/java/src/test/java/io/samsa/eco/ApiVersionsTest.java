/* ApiVersionsTest: Kafka 4.x clients dropped the oldest versions of many APIs
 * (KIP-896) and refuse a broker that serves only those.  Every API the Java
 * client and Kafka Streams use must overlap the client's own version range
 * (ApiKeys.oldestVersion..latestVersion), and no API the broker advertises
 * may lie entirely below it. */
package io.samsa.eco;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.apache.kafka.common.protocol.ApiKeys;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@Order(1)
@ExtendWith({SamsaBroker.class, CompatRecorder.class})
class ApiVersionsTest {
    /** The APIs the producer, consumer (classic groups), admin calls and Streams of this suite send. */
    private static final ApiKeys[] NEEDED = {
        ApiKeys.PRODUCE, ApiKeys.FETCH, ApiKeys.LIST_OFFSETS, ApiKeys.METADATA, ApiKeys.OFFSET_COMMIT,
        ApiKeys.OFFSET_FETCH, ApiKeys.FIND_COORDINATOR, ApiKeys.JOIN_GROUP, ApiKeys.HEARTBEAT,
        ApiKeys.LEAVE_GROUP, ApiKeys.SYNC_GROUP, ApiKeys.DESCRIBE_GROUPS, ApiKeys.LIST_GROUPS,
        ApiKeys.API_VERSIONS, ApiKeys.CREATE_TOPICS, ApiKeys.DELETE_TOPICS, ApiKeys.DELETE_RECORDS,
        ApiKeys.INIT_PRODUCER_ID, ApiKeys.OFFSET_FOR_LEADER_EPOCH, ApiKeys.DESCRIBE_CONFIGS,
        ApiKeys.ALTER_CONFIGS, ApiKeys.CREATE_PARTITIONS, ApiKeys.DELETE_GROUPS,
        ApiKeys.INCREMENTAL_ALTER_CONFIGS, ApiKeys.OFFSET_DELETE, ApiKeys.DESCRIBE_CLUSTER,
    };

    @Test
    @Feature("protocol.api_versions")
    void everyNeededApiVersionIsServed() throws Exception {
        Map<Integer, short[]> broker = ApiVersions.query();
        List<String> bad = new ArrayList<>();
        for (ApiKeys k : NEEDED) {
            short[] r = broker.get((int) k.id);
            if (r == null)
                bad.add(k + " (key " + k.id + ") not served; client needs " + k.oldestVersion() + "-" + k.latestVersion());
            else if (r[1] < k.oldestVersion() || r[0] > k.latestVersion())
                bad.add(k + " served " + r[0] + "-" + r[1] + ", client speaks " + k.oldestVersion() + "-" + k.latestVersion());
        }
        for (Map.Entry<Integer, short[]> e : broker.entrySet()) {
            if (!ApiKeys.hasId(e.getKey()))
                continue;
            ApiKeys k = ApiKeys.forId(e.getKey());
            if (e.getValue()[1] < k.oldestVersion())
                bad.add(k + " advertised " + e.getValue()[0] + "-" + e.getValue()[1]
                        + ", entirely below the client's oldest " + k.oldestVersion());
        }
        assertTrue(bad.isEmpty(), String.join("; ", bad));
    }
}
