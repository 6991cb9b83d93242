/* BrokerShutdownTest: runs last (ClassOrderer, @Order max) and stops the
 * shared broker by PID with SIGTERM: it must answer its clients, flush and
 * exit 0 within 30 s. */
package io.samsa.eco;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@Order(Integer.MAX_VALUE)
@ExtendWith(SamsaBroker.class)
class BrokerShutdownTest {
    @Test
    void brokerExitsCleanlyOnSigterm() throws Exception {
        int rc = SamsaBroker.stop();
        assertEquals(0, rc, () -> "samsa-broker exit status; its log ends:\n" + SamsaBroker.logTail());
    }
}
