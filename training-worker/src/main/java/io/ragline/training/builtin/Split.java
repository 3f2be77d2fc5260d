package io.ragline.training.builtin;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;

/**
 * A held-out split of example indices, seeded. {@code stratified} holds out {@code testSize} of
 * each class (at least one example of every class that has two or more), so a small class is
 * still evaluated; {@code random} holds out {@code testSize} of all examples.
 */
public record Split(int[] train, int[] test) {

    public static Split of(int[] y, double testSize, boolean stratified, long seed) {
        Random random = new Random(seed);
        List<Integer> train = new ArrayList<>();
        List<Integer> test = new ArrayList<>();
        if (stratified) {
            TreeMap<Integer, List<Integer>> byClass = new TreeMap<>();
            for (int i = 0; i < y.length; i++) {
                byClass.computeIfAbsent(y[i], c -> new ArrayList<>()).add(i);
            }
            for (List<Integer> members : byClass.values()) {
                Collections.shuffle(members, random);
                int held = members.size() < 2 ? 0 : Math.max(1, (int) Math.round(members.size() * testSize));
                held = Math.min(held, members.size() - 1);
                test.addAll(members.subList(0, held));
                train.addAll(members.subList(held, members.size()));
            }
        } else {
            List<Integer> all = new ArrayList<>();
            for (int i = 0; i < y.length; i++) {
                all.add(i);
            }
            Collections.shuffle(all, random);
            int held = Math.min(all.size() - 1, Math.max(1, (int) Math.round(all.size() * testSize)));
            test.addAll(all.subList(0, held));
            train.addAll(all.subList(held, all.size()));
        }
        Collections.sort(train);
        Collections.sort(test);
        return new Split(
                train.stream().mapToInt(Integer::intValue).toArray(),
                test.stream().mapToInt(Integer::intValue).toArray());
    }
}
