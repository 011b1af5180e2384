// The web page serve answers GET / with: page.html, embedded at build time (BUILD's genrule).
#ifndef FORGE_TOOLS_SERVE_PAGE_H_
#define FORGE_TOOLS_SERVE_PAGE_H_

namespace forge {

// page.html's bytes, NUL-terminated.
extern const char kServePage[];

}  // namespace forge

#endif  // FORGE_TOOLS_SERVE_PAGE_H_
