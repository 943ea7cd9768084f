//! The drop folder: banks deliver statements as files; the gateway picks each up once it is
//! complete, imports it, and moves it aside.
