//! (link: in progress)
