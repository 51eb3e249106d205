pub mod resnet;

pub use resnet::ResNet18;
