// The admin port's `/`: one self-contained HTML page (no external scripts,
// styles or fonts) that shows the node and its view of the roster, and
// refreshes itself from /status every two seconds.
#pragma once

#include <string_view>

namespace synod::node {

std::string_view status_page_html();

}  // namespace synod::node
