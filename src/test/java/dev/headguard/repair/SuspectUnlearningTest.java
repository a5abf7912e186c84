package dev.headguard.repair;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class SuspectUnlearningTest {

    @Test
    void theTargetGetsTauTimesItsUniformShareAndTheRestIsShared() {
        assertArrayEquals(new float[] {0.75f, 0.25f}, SuspectUnlearning.distribution(1, 2, 0.5), 1e-7f);
        assertArrayEquals(new float[] {0.5f, 0.5f}, SuspectUnlearning.distribution(0, 2, 1.0), 1e-7f, "tau = 1 is uniform");
        assertArrayEquals(new float[] {1f, 0f}, SuspectUnlearning.distribution(1, 2, 0.0), 1e-7f, "tau = 0 is the other class");
        float[] three = SuspectUnlearning.distribution(2, 3, 0.5);
        assertEquals(1 / 6.0, three[2], 1e-6);
        assertEquals(5 / 12.0, three[0], 1e-6);
        assertEquals(1.0, three[0] + three[1] + three[2], 1e-6);
    }

    @Test
    void aTargetOutsideTheClassesOrAShareOutsideZeroToOneIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new SuspectUnlearning(0, 1, 2, 2, 0.5));
        assertThrows(IllegalArgumentException.class, () -> new SuspectUnlearning(0, 1, 0, 2, 1.5));
        assertThrows(IllegalArgumentException.class, () -> new SuspectUnlearning(0, 1, 0, 1, 0.5));
    }
}
