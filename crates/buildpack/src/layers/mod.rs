pub mod filesync;
