package io.ragline.devstack;

import java.util.ArrayList;
import java.util.List;

/** How this process may run system commands: as root, through password-less sudo, or not at all. */
public enum Privilege {
    ROOT,
    SUDO,
    NONE;

    public static Privilege detect() {
        String uid = Command.of("id", "-u").tryRun().output().strip();
        if ("0".equals(uid)) {
            return ROOT;
        }
        if (Command.onPath("sudo") && Command.of("sudo", "-n", "true").tryRun().exitCode() == 0) {
            return SUDO;
        }
        return NONE;
    }

    public boolean canInstall() {
        return this != NONE;
    }

    /** {@code argv} prefixed so that it runs with root rights. */
    public Command system(String... argv) {
        List<String> full = new ArrayList<>();
        if (this == SUDO) {
            full.addAll(List.of("sudo", "-n", "env", "DEBIAN_FRONTEND=noninteractive"));
        }
        full.addAll(List.of(argv));
        Command c = Command.of(full);
        return this == ROOT ? c.env("DEBIAN_FRONTEND", "noninteractive") : c;
    }
}
