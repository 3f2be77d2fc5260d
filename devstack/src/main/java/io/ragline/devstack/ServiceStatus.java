package io.ragline.devstack;

/**
 * One process {@code dev up} runs, as {@code dev status} shows it.
 *
 * @param service what it is: {@code postgres}, {@code postgres standby}, {@code kafka broker 2}, ...
 * @param address {@code host:port}, or {@code -} where none was chosen yet
 * @param running whether its process runs
 * @param note what else to know (a promoted standby), or empty
 */
public record ServiceStatus(String service, String address, boolean running, String note) {}
