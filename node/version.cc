#include "node/version.h"

#include "git_hash.h"

namespace synod::node {

const char* synod_version() { return "0.1.0"; }
const char* synod_git_hash() { return SYNOD_GIT_HASH; }

}  // namespace synod::node
