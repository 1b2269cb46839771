// What this binary is: the release and the commit it was built from.
#pragma once

namespace synod::node {

const char* synod_version();
// The commit CMake saw when it configured the build ("unknown" outside git).
const char* synod_git_hash();

}  // namespace synod::node
