// How the report labels a class (names come from lib/data/synset_mapping.h).
#ifndef FORGE_TOOLS_REPORT_CLASS_NAMES_H_
#define FORGE_TOOLS_REPORT_CLASS_NAMES_H_

#include <string>


namespace forge {

// How the report shows a class: "wnid (name)", the WNID alone for a class without a name, and
// "#<index>" for one without a WNID either.
std::string ClassLabel(int index, const std::string& wnid, const std::string& name);

}  // namespace forge

#endif  // FORGE_TOOLS_REPORT_CLASS_NAMES_H_
