# docs/man/: manual pages.
dist_man_MANS = docs/man/tetherd.8 docs/man/tether-agent.8 docs/man/tetherctl.8
