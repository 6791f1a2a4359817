/* The content features of one ASCII prompt in one C call, and MinHash signatures: the
 * optional fast path of distillguard.detect.features.prompt and .minhash, which hold the
 * reference in Python.
 *
 * Every step reproduces the Python code exactly for ASCII text (the tests compare the two
 * on generated text): the masking passes of template.mask (each regular expression written
 * out as the scan the regex engine performs), normalize, words_of, the keyword and phrase
 * look-ups of domain and intent, and text_hash (BLAKE2b with an 8-byte digest, RFC 7693).
 * Text that is not ASCII returns None and takes the Python path. The keyword and phrase
 * tables come from Python through configure(), so they are written down once.
 *
 * Scratch buffers are static: every function runs with the GIL held and never releases it.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* ------------------------------------------------------------------ character classes */

static unsigned char IS_SPACE[256]; /* white space for str.split() and the regex \s */
static unsigned char IS_SEP[256];   /* white space or normalize.PUNCTUATION */
static unsigned char IS_WORD[256];  /* regex \w for ASCII: [A-Za-z0-9_] */
static unsigned char LOWER[256];

#define IS_UPPER(c) ((c) >= 'A' && (c) <= 'Z')
#define IS_LOWER(c) ((c) >= 'a' && (c) <= 'z')
#define IS_DIGIT(c) ((c) >= '0' && (c) <= '9')

static void init_classes(const char *punctuation) {
    for (int c = 0; c < 256; c++) {
        IS_SPACE[c] = (c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f));
        IS_SEP[c] = IS_SPACE[c];
        IS_WORD[c] = IS_UPPER(c) || IS_LOWER(c) || IS_DIGIT(c) || c == '_';
        LOWER[c] = IS_UPPER(c) ? (unsigned char)(c + 32) : (unsigned char)c;
    }
    for (const char *p = punctuation; *p; p++) IS_SEP[(unsigned char)*p] = 1;
}

/* ------------------------------------------------------------------ growable buffers */

typedef struct {
    unsigned char *data;
    Py_ssize_t len, cap;
} Buffer;

static Buffer BUF_A, BUF_B, BUF_NORM;

static int reserve(Buffer *b, Py_ssize_t extra) {
    if (b->len + extra <= b->cap) return 0;
    Py_ssize_t cap = b->cap ? b->cap : 1024;
    while (cap < b->len + extra) cap *= 2;
    unsigned char *data = PyMem_Realloc(b->data, (size_t)cap);
    if (!data) {
        PyErr_NoMemory();
        return -1;
    }
    b->data = data;
    b->cap = cap;
    return 0;
}

static int put(Buffer *b, const unsigned char *s, Py_ssize_t n) {
    if (reserve(b, n) < 0) return -1;
    memcpy(b->data + b->len, s, (size_t)n);
    b->len += n;
    return 0;
}

#define PUT_LITERAL(b, lit) put((b), (const unsigned char *)(lit), (Py_ssize_t)(sizeof(lit) - 1))

static Py_ssize_t find(const unsigned char *s, Py_ssize_t n, Py_ssize_t from, const char *needle,
                       Py_ssize_t m) {
    for (Py_ssize_t i = from; i + m <= n; i++) {
        const unsigned char *hit = memchr(s + i, needle[0], (size_t)(n - m + 1 - i));
        if (!hit) return -1;
        i = hit - s;
        if (memcmp(hit, needle, (size_t)m) == 0) return i;
    }
    return -1;
}

static int contains(const unsigned char *s, Py_ssize_t n, const char *needle) {
    return find(s, n, 0, needle, (Py_ssize_t)strlen(needle)) >= 0;
}

/* ------------------------------------------------------------------ masking passes
 * Each pass reads s[0:n] and writes the substituted text to out, scanning as re.sub does:
 * try a match at i; on success write the placeholder and go on at its end, else copy s[i]. */

/* The passes copy unmatched text in runs: `done` is where the next copy starts. */
#define FLUSH(out, s, done, i) put((out), (s) + (done), (i) - (done))

/* ```.*?(?:```|\Z)|`[^`\n]+`  (DOTALL) -> " <code> " */
static int pass_code(const unsigned char *s, Py_ssize_t n, Buffer *out) {
    Py_ssize_t i = 0, done = 0;
    while (i < n) {
        const unsigned char *tick = memchr(s + i, '`', (size_t)(n - i));
        if (!tick) break;
        i = tick - s;
        Py_ssize_t end = -1;
        if (i + 2 < n && s[i + 1] == '`' && s[i + 2] == '`') {
            Py_ssize_t close = find(s, n, i + 3, "```", 3);
            end = close < 0 ? n : close + 3;
        } else {
            Py_ssize_t j = i + 1;
            while (j < n && s[j] != '`' && s[j] != '\n') j++;
            if (j < n && s[j] == '`' && j > i + 1) end = j + 1;
        }
        if (end < 0) {
            i++;
            continue;
        }
        if (FLUSH(out, s, done, i) < 0 || PUT_LITERAL(out, " <code> ") < 0) return -1;
        i = done = end;
    }
    return FLUSH(out, s, done, n);
}

/* (?:https?://|www\.)\S+ -> "<url>" */
static int pass_url(const unsigned char *s, Py_ssize_t n, Buffer *out) {
    Py_ssize_t i = 0, done = 0;
    for (; i < n; i++) {
        Py_ssize_t prefix = 0;
        if (s[i] == 'h' && i + 4 <= n && memcmp(s + i, "http", 4) == 0) {
            if (i + 8 < n && memcmp(s + i + 4, "s://", 4) == 0 && !IS_SPACE[s[i + 8]])
                prefix = 8;
            else if (i + 7 < n && memcmp(s + i + 4, "://", 3) == 0 && !IS_SPACE[s[i + 7]])
                prefix = 7;
        } else if (s[i] == 'w' && i + 4 < n && memcmp(s + i, "www.", 4) == 0 &&
                   !IS_SPACE[s[i + 4]]) {
            prefix = 4;
        }
        if (!prefix) continue;
        Py_ssize_t end = i + prefix;
        while (end < n && !IS_SPACE[s[end]]) end++;
        if (FLUSH(out, s, done, i) < 0 || PUT_LITERAL(out, "<url>") < 0) return -1;
        done = end;
        i = end - 1;
    }
    return FLUSH(out, s, done, n);
}

/* \S+@\S+\.\w+ -> "<email>". Within the run of non-space characters from i, the greedy
 * engine ends the match after the word characters that follow the last '.' that has one
 * after it (q); it matches iff an '@' lies in [i+1, q-2]. If the run fails from its start,
 * it fails from every later start too. */
static int pass_email(const unsigned char *s, Py_ssize_t n, Buffer *out) {
    Py_ssize_t i = 0, done = 0;
    while (i < n) {
        if (IS_SPACE[s[i]]) {
            i++;
            continue;
        }
        Py_ssize_t e = i;
        while (e < n && !IS_SPACE[s[e]]) e++;
        Py_ssize_t q = -1;
        for (Py_ssize_t k = e - 2; k >= i; k--) {
            if (s[k] == '.' && IS_WORD[s[k + 1]]) {
                q = k;
                break;
            }
        }
        if (q < 0 || !memchr(s + i + 1, '@', q - 2 >= i + 1 ? (size_t)(q - 2 - i) : 0)) {
            i = e;
            continue;
        }
        Py_ssize_t end = q + 1;
        while (end < e && IS_WORD[s[end]]) end++;
        if (FLUSH(out, s, done, i) < 0 || PUT_LITERAL(out, "<email>") < 0) return -1;
        i = done = end;
    }
    return FLUSH(out, s, done, n);
}

/* "[^"\n]{0,300}" -> "<str>", and (?<!\w)'[^'\n]{1,300}'(?!\w) -> "<str>" */
static int pass_quote(const unsigned char *s, Py_ssize_t n, Buffer *out, unsigned char quote) {
    int single = quote == '\'';
    Py_ssize_t i = 0, done = 0;
    while (i < n) {
        const unsigned char *hit = memchr(s + i, quote, (size_t)(n - i));
        if (!hit) break;
        i = hit - s;
        if (single && i > 0 && IS_WORD[s[i - 1]]) {
            i++;
            continue;
        }
        Py_ssize_t j = i + 1;
        while (j < n && s[j] != quote && s[j] != '\n') j++;
        Py_ssize_t inner = j - i - 1;
        if (j < n && s[j] == quote && inner <= 300 &&
            (!single || (inner >= 1 && (j + 1 == n || !IS_WORD[s[j + 1]])))) {
            if (FLUSH(out, s, done, i) < 0 || PUT_LITERAL(out, "<str>") < 0) return -1;
            i = done = j + 1;
            continue;
        }
        i++;
    }
    return FLUSH(out, s, done, n);
}

/* " [A-Z][a-z]+(?: [A-Z][a-z]+)*" -> " <name>" */
static int pass_name(const unsigned char *s, Py_ssize_t n, Buffer *out) {
    Py_ssize_t i = 0, done = 0;
    while (i + 2 < n) {
        const unsigned char *space = memchr(s + i, ' ', (size_t)(n - 2 - i));
        if (!space) break;
        i = space - s;
        if (!(IS_UPPER(s[i + 1]) && IS_LOWER(s[i + 2]))) {
            i++;
            continue;
        }
        Py_ssize_t k = i + 3;
        while (k < n && IS_LOWER(s[k])) k++;
        while (k + 2 < n && s[k] == ' ' && IS_UPPER(s[k + 1]) && IS_LOWER(s[k + 2])) {
            k += 3;
            while (k < n && IS_LOWER(s[k])) k++;
        }
        if (FLUSH(out, s, done, i) < 0 || PUT_LITERAL(out, " <name>") < 0) return -1;
        i = done = k;
    }
    return FLUSH(out, s, done, n);
}

/* Lower case and single spaces (normalize); with digits, digits become '#' first. */
static int pass_normalize(const unsigned char *s, Py_ssize_t n, Buffer *out, int digits) {
    if (reserve(out, n) < 0) return -1;
    unsigned char *o = out->data + out->len;
    int pending = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        if (IS_SPACE[c]) {
            pending = o != out->data + out->len;
            continue;
        }
        if (pending) {
            *o++ = ' ';
            pending = 0;
        }
        *o++ = (digits && IS_DIGIT(c)) ? '#' : LOWER[c];
    }
    out->len = o - out->data;
    return 0;
}

#define IS_NUMBER_SEP(c) ((c) == '.' || (c) == ',' || (c) == ':' || (c) == '/' || (c) == '-')

/* #+(?:[.,:/-]#+)* -> "<num>" */
static int pass_number(const unsigned char *s, Py_ssize_t n, Buffer *out) {
    Py_ssize_t i = 0, done = 0;
    while (i < n) {
        const unsigned char *hash = memchr(s + i, '#', (size_t)(n - i));
        if (!hash) break;
        i = hash - s;
        Py_ssize_t k = i;
        while (k < n && s[k] == '#') k++;
        while (k + 1 < n && IS_NUMBER_SEP(s[k]) && s[k + 1] == '#') {
            k++;
            while (k < n && s[k] == '#') k++;
        }
        if (FLUSH(out, s, done, i) < 0 || PUT_LITERAL(out, "<num>") < 0) return -1;
        i = done = k;
    }
    return FLUSH(out, s, done, n);
}

/* template.mask for ASCII text; the result is left in *result (BUF_A or BUF_B). */
static int mask(const unsigned char *text, Py_ssize_t n, Buffer **result) {
    Buffer *src = NULL, *dst = &BUF_A;
    const unsigned char *s = text;
#define STEP(call)                                      \
    do {                                                \
        dst->len = 0;                                   \
        if ((call) < 0) return -1;                      \
        src = dst;                                      \
        dst = src == &BUF_A ? &BUF_B : &BUF_A;          \
        s = src->data;                                  \
        n = src->len;                                   \
    } while (0)
    if (memchr(s, '`', (size_t)n)) STEP(pass_code(s, n, dst));
    if (contains(s, n, "://") || contains(s, n, "www.")) STEP(pass_url(s, n, dst));
    if (memchr(s, '@', (size_t)n)) STEP(pass_email(s, n, dst));
    if (memchr(s, '"', (size_t)n)) STEP(pass_quote(s, n, dst, '"'));
    if (memchr(s, '\'', (size_t)n)) STEP(pass_quote(s, n, dst, '\''));
    STEP(pass_name(s, n, dst));
    STEP(pass_normalize(s, n, dst, 1));
    if (memchr(s, '#', (size_t)n)) STEP(pass_number(s, n, dst));
#undef STEP
    *result = src;
    return 0;
}

/* ------------------------------------------------------------------ BLAKE2b, 8-byte digest */

static const uint64_t BLAKE2B_IV[8] = {
    0x6a09e667f3bcc908ULL, 0xbb67ae8584caa73bULL, 0x3c6ef372fe94f82bULL, 0xa54ff53a5f1d36f1ULL,
    0x510e527fade682d1ULL, 0x9b05688c2b3e6c1fULL, 0x1f83d9abfb41bd6bULL, 0x5be0cd19137e2179ULL};

static const unsigned char SIGMA[12][16] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
    {11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4},
    {7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8},
    {9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13},
    {2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9},
    {12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11},
    {13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10},
    {6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5},
    {10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0},
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3}};

#define ROTR64(x, r) (((x) >> (r)) | ((x) << (64 - (r))))
#define G(a, b, c, d, x, y)                \
    do {                                   \
        v[a] = v[a] + v[b] + (x);          \
        v[d] = ROTR64(v[d] ^ v[a], 32);    \
        v[c] = v[c] + v[d];                \
        v[b] = ROTR64(v[b] ^ v[c], 24);    \
        v[a] = v[a] + v[b] + (y);          \
        v[d] = ROTR64(v[d] ^ v[a], 16);    \
        v[c] = v[c] + v[d];                \
        v[b] = ROTR64(v[b] ^ v[c], 63);    \
    } while (0)

static void blake2b_compress(uint64_t h[8], const unsigned char block[128], uint64_t t,
                             int last) {
    uint64_t v[16], m[16];
    for (int i = 0; i < 16; i++) {
        uint64_t w = 0;
        for (int k = 7; k >= 0; k--) w = (w << 8) | block[8 * i + k];
        m[i] = w;
    }
    for (int i = 0; i < 8; i++) {
        v[i] = h[i];
        v[i + 8] = BLAKE2B_IV[i];
    }
    v[12] ^= t; /* messages here are far below 2**64 bytes: the high counter word stays 0 */
    if (last) v[14] = ~v[14];
    for (int r = 0; r < 12; r++) {
        const unsigned char *s = SIGMA[r];
        G(0, 4, 8, 12, m[s[0]], m[s[1]]);
        G(1, 5, 9, 13, m[s[2]], m[s[3]]);
        G(2, 6, 10, 14, m[s[4]], m[s[5]]);
        G(3, 7, 11, 15, m[s[6]], m[s[7]]);
        G(0, 5, 10, 15, m[s[8]], m[s[9]]);
        G(1, 6, 11, 12, m[s[10]], m[s[11]]);
        G(2, 7, 8, 13, m[s[12]], m[s[13]]);
        G(3, 4, 9, 14, m[s[14]], m[s[15]]);
    }
    for (int i = 0; i < 8; i++) h[i] ^= v[i] ^ v[i + 8];
}

/* template.text_hash: the 8-byte BLAKE2b digest as a signed little-endian integer, 0 for
 * empty text and 1 where the digest is 0. */
static long long text_hash(const unsigned char *s, Py_ssize_t n) {
    if (n == 0) return 0;
    uint64_t h[8];
    memcpy(h, BLAKE2B_IV, sizeof h);
    h[0] ^= 0x01010000ULL ^ 8; /* depth 1, fanout 1, no key, 8-byte digest */
    uint64_t t = 0;
    while (n > 128) {
        t += 128;
        blake2b_compress(h, s, t, 0);
        s += 128;
        n -= 128;
    }
    unsigned char block[128] = {0};
    memcpy(block, s, (size_t)n);
    t += (uint64_t)n;
    blake2b_compress(h, block, t, 1);
    long long value = (long long)h[0];
    return value ? value : 1;
}

/* ------------------------------------------------------------------ words, domains, intents */

#define MAX_WORD 32
#define MAX_KNOWN 1024
#define TABLE_SIZE 4096 /* open addressing, a power of two well above MAX_KNOWN */
#define MAX_DOMAINS 16
#define MAX_INTENTS 8

typedef struct {
    unsigned char len;
    char word[MAX_WORD];
    uint16_t domains; /* bit d: the word is a keyword of domain d */
    uint8_t intents;  /* bit b: the word triggers intent b's phrases */
    uint32_t seen;    /* stamp of the last call that counted this word */
} Known;

static Known KNOWN[TABLE_SIZE];
static int N_DOMAINS = 0, OTHER = 0, N_INTENTS = 0, CONFIGURED = 0;
static uint32_t STAMP = 0;

/* Phrases, at most 64: their bytes and intent, and for each pair of leading bytes (hashed
 * into PAIR_SIZE slots) the set of phrases that may start with it. */
#define MAX_PHRASES 64
#define PAIR_SIZE 4096
#define PAIR(a, b) ((((unsigned)(a) << 5) ^ (unsigned)(b) ^ ((unsigned)(a) >> 3)) & (PAIR_SIZE - 1))
static PyObject *PHRASES = NULL; /* tuple of tuples of bytes, one per intent (keeps them alive) */
static const char *PHRASE[MAX_PHRASES];
static Py_ssize_t PHRASE_LEN[MAX_PHRASES];
static uint64_t INTENT_PHRASES[MAX_INTENTS]; /* the phrases of each intent */
static uint64_t STARTS_WITH[PAIR_SIZE];

static uint32_t word_slot(const unsigned char *w, Py_ssize_t n) {
    uint32_t h = 2166136261u;
    for (Py_ssize_t i = 0; i < n; i++) h = (h ^ w[i]) * 16777619u;
    return h & (TABLE_SIZE - 1);
}

static Known *lookup(const unsigned char *w, Py_ssize_t n) {
    uint32_t slot = word_slot(w, n);
    while (KNOWN[slot].len) {
        if (KNOWN[slot].len == n && memcmp(KNOWN[slot].word, w, (size_t)n) == 0) return &KNOWN[slot];
        slot = (slot + 1) & (TABLE_SIZE - 1);
    }
    return NULL;
}

/* Scans the words of text (lower-cased, split at IS_SEP) for keywords and trigger words:
 * the domain index as domain.domain_index gives it (tools aside), and the intents whose
 * trigger words occur. */
static void scan_words(const unsigned char *s, Py_ssize_t n, int *domain, int *triggers) {
    int scores[MAX_DOMAINS] = {0};
    int hits = 0;
    unsigned char word[MAX_WORD];
    *triggers = 0;
    if (++STAMP == 0) {
        for (int i = 0; i < TABLE_SIZE; i++) KNOWN[i].seen = 0;
        STAMP = 1;
    }
    Py_ssize_t i = 0;
    while (i < n) {
        while (i < n && IS_SEP[s[i]]) i++;
        Py_ssize_t start = i;
        while (i < n && !IS_SEP[s[i]]) i++;
        Py_ssize_t len = i - start;
        if (len == 0 || len > MAX_WORD) continue;
        for (Py_ssize_t k = 0; k < len; k++) word[k] = LOWER[s[start + k]];
        Known *known = lookup(word, len);
        if (!known || known->seen == STAMP) continue;
        known->seen = STAMP;
        *triggers |= known->intents;
        if (known->domains) {
            hits = 1;
            for (int d = 0; d < N_DOMAINS; d++) scores[d] += (known->domains >> d) & 1;
        }
    }
    int best = OTHER;
    if (hits) {
        best = 0;
        for (int d = 1; d < N_DOMAINS; d++)
            if (scores[d] > scores[best]) best = d;
    }
    *domain = best;
}

/* intent.text_intents: phrases are searched in the normalised text only for intents whose
 * trigger words occur. One pass over the text looks up, at each position, the phrases of
 * those intents that start with its two bytes; an intent's phrases drop out once one is
 * found, so the result is the set of intents with a phrase anywhere in the text. */
static int intents_of(const unsigned char *s, Py_ssize_t n, int triggers) {
    if (!triggers) return 0;
    BUF_NORM.len = 0;
    if (pass_normalize(s, n, &BUF_NORM, 0) < 0) return -1;
    const unsigned char *t = BUF_NORM.data;
    Py_ssize_t m = BUF_NORM.len;
    uint64_t active = 0;
    for (int b = 0; b < N_INTENTS; b++)
        if (triggers & (1 << b)) active |= INTENT_PHRASES[b];
    int bits = 0;
    for (Py_ssize_t i = 0; i + 1 < m && active; i++) {
        uint64_t candidates = STARTS_WITH[PAIR(t[i], t[i + 1])] & active;
        while (candidates) {
            int k = __builtin_ctzll(candidates);
            candidates &= candidates - 1;
            if (i + PHRASE_LEN[k] <= m && memcmp(t + i, PHRASE[k], (size_t)PHRASE_LEN[k]) == 0) {
                for (int b = 0; b < N_INTENTS; b++) {
                    if (INTENT_PHRASES[b] >> k & 1) {
                        bits |= 1 << b;
                        active &= ~INTENT_PHRASES[b];
                        candidates &= ~INTENT_PHRASES[b];
                    }
                }
            }
        }
    }
    return bits;
}

/* ------------------------------------------------------------------ Python functions */

static int ascii_text(PyObject *text, const unsigned char **s, Py_ssize_t *n) {
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "text must be a str");
        return -1;
    }
    if (!CONFIGURED) {
        PyErr_SetString(PyExc_RuntimeError, "configure() has not been called");
        return -1;
    }
    if (!PyUnicode_IS_ASCII(text)) return 0;
    *s = (const unsigned char *)PyUnicode_DATA(text);
    *n = PyUnicode_GET_LENGTH(text);
    return 1;
}

static PyObject *prompt(PyObject *self, PyObject *text) {
    const unsigned char *s;
    Py_ssize_t n;
    int ok = ascii_text(text, &s, &n);
    if (ok <= 0) {
        if (ok < 0) return NULL;
        Py_RETURN_NONE;
    }
    int domain, triggers;
    scan_words(s, n, &domain, &triggers);
    int bits = intents_of(s, n, triggers);
    Buffer *masked;
    if (bits < 0 || mask(s, n, &masked) < 0) return NULL;
    PyObject *masked_text = PyUnicode_DecodeASCII((const char *)masked->data, masked->len, NULL);
    if (!masked_text) return NULL;
    return Py_BuildValue("NLii", masked_text, text_hash(masked->data, masked->len), bits, domain);
}

static PyObject *system_prompt(PyObject *self, PyObject *text) {
    const unsigned char *s;
    Py_ssize_t n;
    int ok = ascii_text(text, &s, &n);
    if (ok <= 0) {
        if (ok < 0) return NULL;
        Py_RETURN_NONE;
    }
    int domain, triggers;
    scan_words(s, n, &domain, &triggers);
    int bits = intents_of(s, n, triggers);
    if (bits < 0) return NULL;
    return Py_BuildValue("Li", text_hash(s, n), bits);
}

static PyObject *configure(PyObject *self, PyObject *args) {
    PyObject *words, *phrases;
    const char *punctuation;
    int n_domains, other;
    if (!PyArg_ParseTuple(args, "sO!O!ii", &punctuation, &PyDict_Type, &words, &PyTuple_Type,
                          &phrases, &n_domains, &other))
        return NULL;
    if (n_domains > MAX_DOMAINS || PyTuple_GET_SIZE(phrases) > MAX_INTENTS ||
        PyDict_GET_SIZE(words) > MAX_KNOWN) {
        PyErr_SetString(PyExc_ValueError, "too many domains, intents or words");
        return NULL;
    }
    Py_ssize_t count = 0;
    for (Py_ssize_t b = 0; b < PyTuple_GET_SIZE(phrases); b++) {
        PyObject *group = PyTuple_GET_ITEM(phrases, b);
        if (!PyTuple_Check(group)) goto bad_phrases;
        for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(group); k++, count++) {
            PyObject *phrase = PyTuple_GET_ITEM(group, k);
            if (!PyBytes_Check(phrase) || PyBytes_GET_SIZE(phrase) < 2) goto bad_phrases;
        }
    }
    if (count > MAX_PHRASES) goto bad_phrases;
    /* Fill a new table and replace the old one only once every entry is valid. */
    Known *table = PyMem_Calloc(TABLE_SIZE, sizeof(Known));
    if (!table) return PyErr_NoMemory();
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    while (PyDict_Next(words, &pos, &key, &value)) {
        int domains, intents;
        Py_ssize_t len = PyBytes_Check(key) ? PyBytes_GET_SIZE(key) : 0;
        if (len == 0 || len > MAX_WORD || !PyTuple_Check(value) ||
            !PyArg_ParseTuple(value, "ii", &domains, &intents)) {
            PyErr_Clear();
            PyErr_SetString(PyExc_ValueError, "words maps 1..32 bytes to (domains, intents)");
            PyMem_Free(table);
            return NULL;
        }
        const char *w = PyBytes_AS_STRING(key);
        uint32_t slot = word_slot((const unsigned char *)w, len);
        while (table[slot].len) slot = (slot + 1) & (TABLE_SIZE - 1);
        table[slot].len = (unsigned char)len;
        memcpy(table[slot].word, w, (size_t)len);
        table[slot].domains = (uint16_t)domains;
        table[slot].intents = (uint8_t)intents;
    }
    memcpy(KNOWN, table, sizeof KNOWN);
    PyMem_Free(table);
    init_classes(punctuation);
    Py_INCREF(phrases);
    Py_XSETREF(PHRASES, phrases);
    memset(INTENT_PHRASES, 0, sizeof INTENT_PHRASES);
    memset(STARTS_WITH, 0, sizeof STARTS_WITH);
    int k = 0;
    for (Py_ssize_t b = 0; b < PyTuple_GET_SIZE(phrases); b++) {
        PyObject *group = PyTuple_GET_ITEM(phrases, b);
        for (Py_ssize_t j = 0; j < PyTuple_GET_SIZE(group); j++, k++) {
            PyObject *phrase = PyTuple_GET_ITEM(group, j);
            PHRASE[k] = PyBytes_AS_STRING(phrase);
            PHRASE_LEN[k] = PyBytes_GET_SIZE(phrase);
            INTENT_PHRASES[b] |= 1ULL << k;
            STARTS_WITH[PAIR((unsigned char)PHRASE[k][0], (unsigned char)PHRASE[k][1])] |= 1ULL << k;
        }
    }
    N_DOMAINS = n_domains;
    OTHER = other;
    N_INTENTS = (int)PyTuple_GET_SIZE(phrases);
    CONFIGURED = 1;
    Py_RETURN_NONE;
bad_phrases:
    PyErr_SetString(PyExc_ValueError,
                    "phrases is a tuple of tuples of bytes, at least 2 bytes each, 64 in all");
    return NULL;
}

static PyObject *hash_text(PyObject *self, PyObject *arg) {
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    long long value = text_hash(view.buf, view.len);
    PyBuffer_Release(&view);
    return PyLong_FromLongLong(value);
}

/* ------------------------------------------------------------------ MinHash
 * minhash.MinHasher.signatures in C: the same words, word hashes, shingles and hash
 * functions as the numpy code there, one text at a time (the tests compare the two). */

#define MULT1 0x9E3779B97F4A7C15ULL
#define MULT2 0xC2B2AE3D27D4EB4FULL
#define MULT3 0xFF51AFD7ED558CCDULL
#define PAD1 0x5BD1E9955BD1E995ULL
#define PAD2 0x1B8735931B873593ULL

static uint64_t word_hash(const unsigned char *w, Py_ssize_t len) {
    uint64_t h = (uint64_t)len * MULT1;
    for (Py_ssize_t j = 0; j < len; j += 8) {
        uint64_t chunk = 0;
        Py_ssize_t take = len - j < 8 ? len - j : 8;
        for (Py_ssize_t k = take - 1; k >= 0; k--) chunk = (chunk << 8) | w[j + k];
        h ^= chunk;
        h *= MULT2;
        h ^= h >> 29;
    }
    return h;
}

static uint32_t fold(uint64_t x) {
    x ^= x >> 33;
    x *= MULT3;
    x ^= x >> 33;
    x *= MULT1;
    x ^= x >> 29;
    return (uint32_t)(x >> 32);
}

typedef struct {
    uint64_t *data;
    Py_ssize_t len, cap;
} Words;

static int signature(const unsigned char *s, Py_ssize_t n, const unsigned char *sep, Words *words,
                     const uint32_t *a, const uint32_t *b, Py_ssize_t num_perm, uint32_t *out) {
    words->len = 0;
    Py_ssize_t i = 0;
    while (i < n) {
        while (i < n && sep[s[i]]) i++;
        Py_ssize_t start = i;
        while (i < n && !sep[s[i]]) i++;
        if (i == start) continue;
        if (words->len == words->cap) {
            Py_ssize_t cap = words->cap ? 2 * words->cap : 256;
            uint64_t *data = PyMem_Realloc(words->data, (size_t)cap * sizeof(uint64_t));
            if (!data) {
                PyErr_NoMemory();
                return -1;
            }
            words->data = data;
            words->cap = cap;
        }
        words->data[words->len++] = word_hash(s + start, i - start);
    }
    for (Py_ssize_t k = 0; k < num_perm; k++) out[k] = 0xFFFFFFFFu;
    const uint64_t *w = words->data;
    Py_ssize_t count = words->len;
    for (Py_ssize_t j = 0; j < count; j++) {
        uint64_t second = j + 1 < count ? w[j + 1] : PAD1;
        uint64_t third = j + 2 < count ? w[j + 2] : (j + 2 == count ? PAD1 : PAD2);
        uint32_t x = fold((w[j] * MULT1 + second * MULT2) ^ third);
        for (Py_ssize_t k = 0; k < num_perm; k++) {
            uint32_t v = a[k] * x + b[k];
            out[k] = v < out[k] ? v : out[k];
        }
    }
    return 0;
}

static PyObject *signatures(PyObject *self, PyObject *args) {
    PyObject *texts;
    Py_buffer separators, a, b, into;
    if (!PyArg_ParseTuple(args, "Oy*y*y*w*", &texts, &separators, &a, &b, &into)) return NULL;
    PyObject *result = NULL, *seq = NULL;
    Words words = {NULL, 0, 0};
    Py_ssize_t num_perm = a.len / 4;
    if (a.len != b.len || a.len % 4 || num_perm == 0) {
        PyErr_SetString(PyExc_ValueError, "a and b are the same number (>= 1) of uint32 values");
        goto done;
    }
    unsigned char sep[256] = {0};
    for (Py_ssize_t k = 0; k < separators.len; k++) sep[((unsigned char *)separators.buf)[k]] = 1;
    uint32_t *pa = PyMem_Malloc((size_t)a.len), *pb = PyMem_Malloc((size_t)b.len);
    if (!pa || !pb) {
        PyMem_Free(pa);
        PyMem_Free(pb);
        PyErr_NoMemory();
        goto done;
    }
    memcpy(pa, a.buf, (size_t)a.len); /* the numpy arrays' bytes, in this machine's order */
    memcpy(pb, b.buf, (size_t)b.len);
    seq = PySequence_Fast(texts, "texts must be a sequence of str");
    if (!seq) goto free_params;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    if (into.len != n * num_perm * 4) {
        PyErr_SetString(PyExc_ValueError, "out must hold len(texts) x len(a) uint32 values");
        goto free_params;
    }
    result = Py_None;
    Py_INCREF(result);
    uint32_t *out = (uint32_t *)into.buf;
    for (Py_ssize_t t = 0; t < n; t++) {
        PyObject *text = PySequence_Fast_GET_ITEM(seq, t), *encoded = NULL;
        const unsigned char *data;
        Py_ssize_t len;
        if (!PyUnicode_Check(text)) {
            PyErr_SetString(PyExc_TypeError, "texts must be a sequence of str");
            Py_CLEAR(result);
            break;
        }
        if (PyUnicode_IS_ASCII(text)) {
            data = PyUnicode_DATA(text);
            len = PyUnicode_GET_LENGTH(text);
        } else {
            encoded = PyUnicode_AsEncodedString(text, "utf-8", "surrogatepass");
            if (!encoded) {
                Py_CLEAR(result);
                break;
            }
            data = (const unsigned char *)PyBytes_AS_STRING(encoded);
            len = PyBytes_GET_SIZE(encoded);
        }
        int failed = signature(data, len, sep, &words, pa, pb, num_perm, out + t * num_perm);
        Py_XDECREF(encoded);
        if (failed) {
            Py_CLEAR(result);
            break;
        }
    }
free_params:
    PyMem_Free(pa);
    PyMem_Free(pb);
done:
    Py_XDECREF(seq);
    PyMem_Free(words.data);
    PyBuffer_Release(&separators);
    PyBuffer_Release(&a);
    PyBuffer_Release(&b);
    PyBuffer_Release(&into);
    return result;
}

static PyMethodDef METHODS[] = {
    {"configure", configure, METH_VARARGS,
     "configure(punctuation, words, phrases, n_domains, other): the look-up tables."},
    {"prompt", prompt, METH_O,
     "prompt(text) -> (masked, template, intents, domain) or None if text is not ASCII."},
    {"system", system_prompt, METH_O,
     "system(text) -> (hash, intents) or None if text is not ASCII."},
    {"text_hash", hash_text, METH_O, "text_hash(data: bytes) -> int, as template.text_hash."},
    {"signatures", signatures, METH_VARARGS,
     "signatures(texts, separators, a, b, out): len(texts) x len(a) MinHash values into out."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef MODULE = {
    PyModuleDef_HEAD_INIT, "_cfeatures", "C fast path of distillguard.detect.features.prompt.",
    -1, METHODS, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__cfeatures(void) {
    /* Allocated from the start, so no pass ever reads or writes through a NULL buffer. */
    if (reserve(&BUF_A, 4096) < 0 || reserve(&BUF_B, 4096) < 0 || reserve(&BUF_NORM, 4096) < 0)
        return NULL;
    return PyModule_Create(&MODULE);
}
