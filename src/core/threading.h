// Threading: one OpenMP pool serves our loops and oneDNN's.
#pragma once

namespace tfm {

// Sets the number of threads for our loops and for oneDNN (n <= 0: leave the default).
void set_num_threads(int n);
int num_threads();

}  // namespace tfm
