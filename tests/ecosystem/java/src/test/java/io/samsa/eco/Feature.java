/* Feature: names the compatibility-matrix features a test covers
 * (scripts/compat_matrix.py, FEATURES) and the client it exercises.
 * CompatRecorder writes one JSON line per feature from the test's outcome. */
package io.samsa.eco;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface Feature {
    /** Feature keys, e.g. "produce.idempotent". */
    String[] value();

    /** "kafka-clients" or "kafka-streams". */
    String client() default "kafka-clients";
}
