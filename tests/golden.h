// Golden files: expected output kept in tests/testdata and compared as text.
// `synod_tests --rewrite` writes the actual output back, to review as a diff.
#pragma once

namespace synod::testing {
extern bool rewrite_goldens;
}
