package io.ragline.devstack;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class DevServicesTest {
    @Test
    void theTextOfTheServicesHidesAnyPassword() {
        for (String password : new String[] {"plain", "pa/ss", "pa?ss", "p@ss", "pa#s:s"}) {
            String text = new DevServices(
                            "postgresql://ragline:" + password + "@db.example:5432/rag?sslmode=disable", "k:9092")
                    .toString();
            assertThat(text)
                    .as(password)
                    .contains("postgresql://ragline:<masked>@db.example:5432/rag?sslmode=disable")
                    .doesNotContain(password);
        }
    }
}
