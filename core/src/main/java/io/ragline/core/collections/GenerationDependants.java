package io.ragline.core.collections;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * The deployed classifiers that depend on an embedding generation (V29's {@code
 * generation_dependants}): a builtin model scores the vectors of the generation it was trained on,
 * so {@link CollectionMigrations#prune} refuses to delete that generation unless forced.
 */
final class GenerationDependants {
    private GenerationDependants() {}

    /**
     * Throws CONFLICT naming every deployed model trained on one of {@code kept}, of collection
     * {@code name}.
     */
    static void refuseIfAny(Connection c, String name, List<Generation> kept) throws SQLException, CollectionException {
        List<String> dependants = new ArrayList<>();
        for (Generation g : kept) {
            try (PreparedStatement s =
                    c.prepareStatement("select model_id, project from generation_dependants(?, ?)")) {
                s.setInt(1, g.collectionId());
                s.setInt(2, g.number());
                try (ResultSet rs = s.executeQuery()) {
                    while (rs.next()) {
                        dependants.add("model " + rs.getLong(1) + " of project '" + rs.getString(2) + "' (trained on"
                                + " generation " + g.number() + ", " + g.model() + ")");
                    }
                }
            }
        }
        if (!dependants.isEmpty()) {
            throw CollectionException.conflict(
                    "collection '" + name + "': the deployed " + String.join(", ", dependants)
                            + " scores the vectors prune would delete; train the project again on the serving model first,"
                            + " or prune with --force (that model then predicts nothing until it is replaced)");
        }
    }
}
