// What this binary is: the release and the commit it was built from.
#pragma once

namespace synod::node {

const char* synod_version();
// The commit the build was made from, "-dirty" if files differed from it
// ("unknown" outside git).
const char* synod_git_hash();

}  // namespace synod::node
