package io.ragline.embeddings.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/** The settings of a BERT WordPiece tokenizer, read from a HuggingFace {@code tokenizer.json}. */
record TokenizerConfig(
        Map<String, Integer> vocab,
        String continuingSubwordPrefix,
        int maxInputCharsPerWord,
        int unkId,
        int clsId,
        int sepId,
        int padId,
        boolean cleanText,
        boolean handleChineseChars,
        boolean stripAccents,
        boolean lowercase,
        List<String> addedTokens,
        int[] addedTokenIds,
        BitSet addedTokenStarts) {

    static TokenizerConfig parse(byte[] json) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(json);
        } catch (IOException e) {
            throw new UncheckedIOException("tokenizer.json is not valid JSON", e);
        }
        JsonNode model = root.path("model");
        require("model.type", model.path("type").asText(), "WordPiece");
        require("pre_tokenizer.type", root.path("pre_tokenizer").path("type").asText(), "BertPreTokenizer");
        JsonNode normalizer = root.path("normalizer");
        require("normalizer.type", normalizer.path("type").asText(), "BertNormalizer");

        Map<String, Integer> vocab = new HashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = model.path("vocab").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            vocab.put(e.getKey(), e.getValue().asInt());
        }
        if (vocab.isEmpty()) {
            throw new IllegalArgumentException("tokenizer.json has no model.vocab");
        }
        boolean lowercase = normalizer.path("lowercase").asBoolean(true);
        JsonNode strip = normalizer.path("strip_accents");
        // HuggingFace: strip_accents null means "as lowercase".
        boolean stripAccents = strip.isBoolean() ? strip.asBoolean() : lowercase;

        List<String> added = new ArrayList<>();
        List<Integer> addedIds = new ArrayList<>();
        BitSet starts = new BitSet();
        for (JsonNode t : root.path("added_tokens")) {
            String content = t.path("content").asText();
            if (!content.isEmpty()) {
                added.add(content);
                addedIds.add(t.path("id").asInt());
                starts.set(content.charAt(0));
            }
        }
        String unk = model.path("unk_token").asText("[UNK]");
        return new TokenizerConfig(
                Map.copyOf(vocab),
                model.path("continuing_subword_prefix").asText("##"),
                model.path("max_input_chars_per_word").asInt(100),
                id(vocab, unk, "model.unk_token"),
                id(vocab, special(root, 0, "[CLS]"), "post_processor [CLS]"),
                id(vocab, special(root, -1, "[SEP]"), "post_processor [SEP]"),
                vocab.getOrDefault(root.path("padding").path("pad_token").asText("[PAD]"), 0),
                normalizer.path("clean_text").asBoolean(true),
                normalizer.path("handle_chinese_chars").asBoolean(true),
                stripAccents,
                lowercase,
                List.copyOf(added),
                addedIds.stream().mapToInt(Integer::intValue).toArray(),
                starts);
    }

    /**
     * The special token at {@code position} (0 first, -1 last) of the post-processor's single-sequence
     * template ({@code TemplateProcessing}), or BERT's {@code cls}/{@code sep} ({@code BertProcessing}).
     */
    private static String special(JsonNode root, int position, String fallback) {
        JsonNode pp = root.path("post_processor");
        if ("BertProcessing".equals(pp.path("type").asText())) {
            return pp.path(position == 0 ? "cls" : "sep").path(0).asText(fallback);
        }
        JsonNode single = pp.path("single");
        if (single.isArray() && !single.isEmpty()) {
            JsonNode item = single.get(position == 0 ? 0 : single.size() - 1);
            JsonNode token = item.path("SpecialToken").path("id");
            if (token.isTextual()) {
                return token.asText();
            }
        }
        return fallback;
    }

    private static int id(Map<String, Integer> vocab, String token, String where) {
        Integer id = vocab.get(token);
        if (id == null) {
            throw new IllegalArgumentException(
                    "tokenizer.json: " + where + " '" + token + "' is not in the vocabulary");
        }
        return id;
    }

    private static void require(String field, String actual, String expected) {
        if (!expected.equals(actual)) {
            throw new IllegalArgumentException(
                    "tokenizer.json: " + field + " is '" + actual + "', only '" + expected + "' is supported");
        }
    }

    boolean isAddedTokenStart(char c) {
        return addedTokenStarts.get(c);
    }

    /** The index of the longest added token at {@code text[at]}, or -1. */
    int matchAddedToken(String text, int at) {
        int best = -1;
        for (int k = 0; k < addedTokens.size(); k++) {
            String t = addedTokens.get(k);
            if (text.startsWith(t, at)
                    && (best < 0 || t.length() > addedTokens.get(best).length())) {
                best = k;
            }
        }
        return best;
    }

    int addedTokenLength(int k) {
        return addedTokens.get(k).length();
    }

    int addedTokenId(int k) {
        return addedTokenIds[k];
    }
}
