// triage/report/flamegraph.hpp — a profile (profile.hpp) drawn as an
// interactive SVG flame graph, one self-contained file a browser opens.
//
// Offers: `to_flamegraph(p, options)`: the classic icicle of flamegraph.pl
// and inferno, root ("all", every sample) at the bottom, each frame a box
// as wide as its share of the samples, the frames it called stacked above
// it, stacks merged by common prefix; with by_thread the thread labels are
// the first level. Frames narrower than `min_frame_share` of the total (or
// than 1 px) are not drawn; the subtitle line says how many. Each box has
// a label cut with "…" to fit and a tooltip "function (file:line) — N
// samples, P%"; colours are warm and follow the function's name, so a
// function has the same colour everywhere. Its script (no network, no
// external file): hovering shows a frame in the details line at the
// bottom, a click zooms into a frame ("Reset zoom" or a click on "all"
// undoes it), "Search" or Ctrl+F highlights the frames whose name matches
// a regular expression and shows the share they cover; once it has set
// up, the root <svg> has data-ready="1". Target strings (function, file,
// thread names) are escaped (escape_controls, then as XML), so the file is
// well-formed XML whatever they hold.
// Thread-safe: yes (const). Signal-safe: no. Target process: none.
//
//   triage::report::flamegraph_options options;  options.title = "python3 service.py";
//   std::ofstream{"profile.svg"} << triage::report::to_flamegraph(p, options);
#pragma once

#include <string>

#include "triage/base/config.hpp"
#include "triage/report/profile.hpp"

namespace triage::report {

struct flamegraph_options {
    std::string title;               // "" → "Flame graph"
    std::string subtitle;            // a line under the title, e.g. "2,000 samples at 100 Hz, 12 s"
    int width = 1200;                // of the image, px (200 to 100,000)
    int frame_height = 16;           // of one stack level, px (8 to 100)
    int font_size = 12;              // of the labels, px (6 to frame_height - 2)
    double min_frame_share = 0.001;  // frames below this share of the samples are not drawn
};

[[nodiscard]] TRIAGE_DECL std::string to_flamegraph(const profile& p, const flamegraph_options& options);

} // namespace triage::report

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/report/impl/flamegraph.ipp"
#endif
