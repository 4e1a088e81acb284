# The reversal task of the demo and the learning tests: random strings of 5-20 letters over a
# 12-letter alphabet, each paired with its reverse, as source<TAB>target lines.
# awk -v seed=S -v count=N -f reverse.awk   (same seed, same lines)
BEGIN {
  split("a b c d e f g h i j k l", A, " ")
  srand(seed)
  for (n = 0; n < count; n++) {
    len = 5 + int(rand() * 16)
    s = ""
    for (i = 0; i < len; i++) s = s A[1 + int(rand() * 12)]
    r = ""
    for (i = len; i >= 1; i--) r = r substr(s, i, 1)
    print s "\t" r
  }
}
