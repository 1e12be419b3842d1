use staticnet::prelude::*;

network! {
    pub struct Net<Affine<784, 100>, Relu, Affine<100, 10>, SoftmaxWithLoss>
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The directory holding the four MNIST files.
    let dir = std::env::args().nth(1).unwrap_or_default();
    let mnist = load_mnist(dir, &LoadOptions::default())?;
    let (train, test) = (mnist.train_samples(), mnist.test_samples());

    let mut net = Net::init(&mut StdRng::seed_from_u64(0), Init::He);
    let history = Fit::new(Optimizer::adam(0.001))
        .epochs(3)
        .schedule(Schedule::cosine())
        .validation(&test)
        .run(&mut net, &train)?;
    let accuracy = history.last().and_then(|e| e.val_acc);
    println!("test accuracy: {accuracy:?}");

    save_weights(&net, "net.safetensors")?;
    let mut loaded = Net::init(&mut StdRng::seed_from_u64(1), Init::He);
    load_weights(&mut loaded, "net.safetensors")?;
    let (images, labels) = test.batch_for(&loaded, &[0, 1, 2, 3, 4])?;
    let predicted = loaded.classify(&images);
    println!("predicted {predicted:?}, labeled {labels:?}");
    Ok(())
}
